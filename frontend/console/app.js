// The triage console: sign-in, the live queue, the case view, presence and alerts.
// State comes from /ws/console (snapshot, then events applied by state.js); actions go through
// the HTTP API and come back as events, so every console shows the same thing.
import { Api, wsUrl } from "../shared/api.js";
import { $, h, replace } from "../shared/dom.js";
import {
  CATEGORIES,
  DISPOSITIONS,
  KTAS,
  OPEN_STATUSES,
  PRESENCES,
  STATUSES,
} from "../shared/domain.js";
import { getLocale, initialLocale, onLocaleChange, setLocale, t, translatePage } from "../shared/i18n.js";
import { clearToken, decodeToken, loadToken, saveToken } from "../shared/session.js";
import { Alarm } from "./alarm.js";
import { cannedReply, fillCanned, replyLanguage } from "./canned.js";
import { ConsoleConnection } from "./connection.js";
import { REPLY_MAX_CHARS, SHORTCUTS, charCount, refusalText } from "./messages.js";
import { attachmentBlock, caseImages, closeViewer, putReplyFiles, replyAttach, replyFileIds, replyUploading, takeReplyFiles } from "./attachments.js";
import {
  RECORD_FIELDS,
  changedValues,
  conflicts,
  displayValue,
  formText,
  recordField,
  sameValue,
  selfReported,
} from "./record.js";
import { formatCountdown, formatWaited, slaStatus } from "./sla.js";
import {
  VIEWS,
  alertFor,
  alertIsForMe,
  applyEvent,
  applySnapshot,
  emptyState,
  hasRedFlags,
  inView,
  onDuty,
  openAlerts,
  queue,
  unacknowledged,
  viewCounts,
} from "./state.js";
import { describeItem } from "./timeline.js";
import { zonedTime } from "./when.js";

let token = loadToken();
let me = null;
let state = emptyState();
//: How often the gaps are fetched again without a roster change (a gap comes closer by itself).
const GAPS_REFRESH_MS = 5 * 60 * 1000;
let rosterGaps = null;
let gapsTimer = null;

let connection = null;
let status = "signed_out";
let selectedId = null; // highlighted in the queue
let openId = null; // shown in the case view
let detail = null; // GET /tickets/{id} of the open case
const alarm = new Alarm();
//: How often the sound repeats while an open alert waits for someone to acknowledge it.
const ALERT_REPEAT_MS = 3000;
let alertRepeat = null;
// Observable by tests and by an operator's browser console: sounds played, notifications shown.
globalThis.__alertSoundPlays = 0;
globalThis.__alertNotifications = 0;
let view = "all_open"; // the queue tab shown
let displayed = []; // the queue rows on screen, in order (for j/k)
const rows = new Map(); // id → QueueRow extras (name, age/sex, preview, unread) from GET /tickets
const search = { q: "", finished: false, results: null, total: 0, seq: 0 };
let recordEdit = freshRecordEdit(null); // the record form's edits: version and values started from
let recordConflicts = []; // after a 409 stale_version: [{name, theirs, yours}]
let changedBy = {}; // field → staff id of the last ticket.updated seen for the open case
let timelineOpen = false;
let timeline = null; // {ticketId, items, total} of the open case
let replyLimit = REPLY_MAX_CHARS;
const REASONS = ["handled_by_phone", "unreachable", "duplicate", "no_reply_needed"];
const PRESENCE_ORDER = { available: 0, busy: 1, away: 2, offline: 3 };

const recordDrafts = new Map(); // ticket id → {edit, values} of a record left unsaved
let pendingRecord = null; // those values, to put back once the case is rendered

function stashRecord() {
  const form = $("#record-form");
  if (!form || openId === null) return;
  const values = {};
  for (const el of form.querySelectorAll("[data-dirty][id]")) values[el.id] = el.value;
  if (Object.keys(values).length) recordDrafts.set(openId, { edit: recordEdit, values });
}

function freshRecordEdit(ticketId) {
  return { ticketId, version: null, base: {} };
}

const api = new Api({ getToken: () => token, onUnauthorized: () => signOut("signin.expired") });

// ---------------------------------------------------------------- sign-in and session

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  $("#signin-error").textContent = "";
  alarm.unlock(); // a user gesture: the browser lets the page make sounds from now on
  try {
    const body = await api.request("POST", "/api/v1/auth/token", {
      form: { username: form.username.value, password: form.password.value },
    });
    token = body.access_token;
    saveToken(token);
    form.reset();
    await start();
  } catch (err) {
    $("#signin-error").textContent = err.status === 401 ? t("signin.failed") : refusalText(err);
  }
}

function signOut(reason) {
  closeViewer();
  connection?.stop();
  connection = null;
  token = null;
  me = null;
  clearToken();
  state = emptyState();
  rosterGaps = null;
  openId = selectedId = null;
  detail = null;
  setStatus("signed_out");
  showSignedIn(false);
  if (reason) $("#signin-error").textContent = t(reason);
}

async function start() {
  const claims = decodeToken(token) || {};
  me = { id: Number(claims.sub), role: claims.role, name: "", presence: "available" };
  try {
    me = { ...me, ...(await api.get("/api/v1/staff/me")) };
  } catch (err) {
    if (err.status === 401) return;
    // Without the profile the console still works from the token's claims.
  }
  if (me.role === "manager") {
    // Managers read aggregates on /reports/; the console has nothing for them to work.
    showSignedIn(true, { manager: true });
    renderMe();
    return;
  }
  showSignedIn(true);
  renderMe();
  loadGaps();
  connection = new ConsoleConnection({
    url: wsUrl("/ws/console"),
    getToken: () => token,
    lastEventId: () => state.lastEventId,
    onFrame,
    onStatus: setStatus,
  });
  setStatus("connecting");
  connection.start();
}

function showSignedIn(signedIn, { manager = false } = {}) {
  $("#signin").hidden = signedIn;
  $("#workspace").hidden = !signedIn || manager;
  $("#manager-note").hidden = !(signedIn && manager);
  $("#connection").hidden = signedIn && manager; // no socket for a manager: nothing to show
  for (const id of ["#presence-box", "#sound", "#help-open"]) $(id).hidden = !signedIn || manager;
  $("#sign-out").hidden = !signedIn;
  $("#search").hidden = me?.role === "admin"; // admins may not search what conversations say
  if (!signedIn) {
    replace($("#me"));
    $("#signin [name=username]").focus();
  }
  render();
}

function setStatus(next) {
  status = next;
  const el = $("#connection");
  el.dataset.state = next;
  el.textContent = t(`conn.${next}`);
  if (next === "signed_out" && token && connection) signOut("signin.expired");
}

// ---------------------------------------------------------------- frames from /ws/console

function onFrame(frame) {
  switch (frame.type) {
    case "snapshot":
      state = applySnapshot(frame, state);
      if (state.me) {
        me = { ...me, ...state.me };
        renderMe();
      }
      break;
    case "resync":
      // The server no longer holds the events we missed: a fresh snapshot follows.
      break;
    case "event":
      onEvent(frame);
      break;
    case "ready":
      if (typeof frame.last_event_id === "number") {
        state = { ...state, lastEventId: Math.max(state.lastEventId ?? 0, frame.last_event_id) };
      }
      // Opening the console means being at work: an offline clinician becomes available.
      if (me && (me.presence ?? "offline") === "offline" && me.role !== "manager") {
        setPresence("available");
      }
      break;
    case "error":
      console.warn("console protocol error", frame);
      return;
    default:
      return;
  }
  render();
  if (frame.type === "snapshot" && openId !== null) loadCase(openId);
  if (frame.type === "ready") scheduleRows(0);
}

function onEvent(event) {
  const alert = alertFor(state, event);
  state = applyEvent(state, event);
  if (event.name === "presence.changed" && me && state.staff[me.id]) {
    me = { ...me, presence: state.staff[me.id].presence };
    renderMe();
  }
  if (alert) raise(alert);
  if (event.name === "alert.raised" || event.name === "alert.escalated") notify(event);
  if (String(event.name).startsWith("alert.")) renderAlerts();
  if (String(event.name).startsWith("duty.") || event.data?.alert?.kind === "roster_gap") loadGaps();
  if (event.data?.ticket || event.data?.message) scheduleRows();
  if (search.results && event.data?.ticket) {
    // A found case changed: show its new state in the results without searching again.
    const ticket = event.data.ticket;
    search.results = search.results.map((r) => (r.id === ticket.id && (ticket.version ?? 0) >= (r.version ?? 0) ? { ...r, ...ticket } : r));
  }
  if (detail && event.ticket_id === detail.id) {
    const ticket = event.data?.ticket;
    if (ticket && (ticket.version ?? 0) >= (detail.version ?? 0)) {
      detail = { ...detail, ...ticket };
      // Someone edited the record: their values go into the panel; a field being edited
      // here keeps what is typed (renderCase carries dirty controls over).
      if (event.name === "ticket.updated" && event.data.changes) {
        detail = { ...detail, ...event.data.changes };
        for (const name of event.data.fields || []) changedBy[name] = event.data.by ?? event.actor_id;
      }
    }
    if (timelineOpen) scheduleTimeline();
    const message = event.data?.message;
    if (message && !detail.messages.some((m) => m.id === message.id)) {
      detail = { ...detail, messages: [...detail.messages, message] };
    }
    // A LINE or Kakao photo fetched after its message came: "arriving" becomes the photo.
    const file = event.name === "attachment.updated" ? event.data?.attachment : null;
    if (file) {
      detail = {
        ...detail,
        messages: detail.messages.map((m) =>
          m.id === event.data.message_id
            ? { ...m, attachments: (m.attachments || []).map((a) => (a.id === file.id ? file : a)) }
            : m,
        ),
      };
    }
    renderCase();
  }
}

// ---------------------------------------------------------------- alerts

/** Red-flag codes as words in the reader's language (an unknown code shows as itself). */
function flagLabels(flags) {
  return (flags || [])
    .map((code) => {
      const label = t(`flag.${code}`);
      return label === `flag.${code}` ? code : label;
    })
    .join(", ");
}

function raise(alert) {
  const ticket = alert.ticket || state.tickets[alert.ticketId] || {};
  const level = ticket.acuity ?? ticket.suspected_acuity;
  const text = t(`alert.${alert.kind}`, {
    case: ticket.case_number || `#${alert.ticketId}`,
    level: level ? t(`ktas.${level}`) : "",
    flags: flagLabels(ticket.red_flags),
  });
  const banner = $("#alert-banner");
  replace(
    banner,
    h("span", { class: "alert-text" }, text),
    h("button", { type: "button", onclick: () => openCase(alert.ticketId) }, t("alert.open")),
    h("button", { type: "button", onclick: dismissAlert }, t("alert.dismiss")),
  );
  banner.dataset.kind = alert.kind;
  banner.hidden = false;
  alarm.beep(alert.kind === "urgent" || alert.kind === "red_flag" ? 3 : 2);
}

/** An alert's sentence in the reader's language. */
function alertText(alert) {
  const data = alert.data || {};
  if (alert.kind === "no_doctor_available") {
    return t("alerts.no_doctor_available.text", {
      waiting: data.waiting ?? "?",
      level: alert.level ?? "?",
      cases: (data.case_numbers || []).join(", "),
    });
  }
  if (alert.kind === "roster_gap" && data.start) {
    return t("alerts.roster_gap.text", {
      start: zonedTime(data.start),
      end: data.open_ended ? "…" : zonedTime(data.end),
    });
  }
  const ticket = state.tickets[alert.ticket_id] || {};
  const label = t(`alerts.${alert.kind}`);
  const name = label === `alerts.${alert.kind}` ? alert.kind : label;
  const number = alert.data?.case_number || ticket.case_number || "";
  return number ? `${name}: ${number}` : name;
}

/** The level the alert was raised at, coloured as in the queue (the list is ordered by it). */
function alertLevel(alert) {
  const level = typeof alert.level === "number" ? alert.level : null;
  const colour = KTAS[level]?.colour ?? "none";
  return h(
    "span",
    { class: `ktas ktas-${colour}`, title: level ? t(`ktas.${level}`) : t("alerts.no_level") },
    level ? String(level) : "–",
  );
}

/** A browser notification for a raised or escalated alert while this tab is not looked at. */
function notify(event) {
  const alert = event.data.alert;
  if (!document.hidden || !alert || alert.state !== "open" || alert.acknowledged_at) return;
  if (!alertIsForMe(state, alert)) return;
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    const title = event.name === "alert.escalated" ? t("alerts.escalated") : t("console.alerts");
    new Notification(title, { body: alertText(alert), tag: `alert-${alert.id}`, requireInteraction: true });
    globalThis.__alertNotifications += 1;
  } catch (err) {
    console.warn("notification failed", err);
  }
}

/** Repeat the sound while an open alert is unacknowledged; stop when none is. */
function keepRinging() {
  const waiting = unacknowledged(state).length > 0;
  if (waiting && alertRepeat === null) {
    ringOnce();
    alertRepeat = setInterval(ringOnce, ALERT_REPEAT_MS);
  } else if (!waiting && alertRepeat !== null) {
    clearInterval(alertRepeat);
    alertRepeat = null;
  }
}

function ringOnce() {
  if (unacknowledged(state).length === 0) return keepRinging();
  globalThis.__alertSoundPlays += 1;
  alarm.beep(2);
}

async function acknowledge(alert, button) {
  button.disabled = true;
  try {
    const acked = await api.post(`/api/v1/alerts/${alert.id}/ack`);
    // The event follows; apply the answer now so the sound stops at once.
    if (acked && state.alerts[acked.id]) state = { ...state, alerts: { ...state.alerts, [acked.id]: acked } };
  } catch (err) {
    console.warn("acknowledge failed", err);
    button.disabled = false;
  }
  renderAlerts();
}

//: Alert kinds whose data lists one-click fallbacks (a reply that did not reach the traveller).
const DELIVERY_ALERTS = new Set(["delivery_overdue", "delivery_failed"]);
//: Fallbacks the server performs now; the others are listed and wait for their wiring.
const FALLBACKS_WIRED = new Set(["channel", "sms", "callback"]);

/** The one-click fallback buttons of a delivery alert (doctors and EMTs take them). */
function fallbackButtons(alert) {
  if (!DELIVERY_ALERTS.has(alert.kind) || !me || !["doctor", "emt"].includes(me.role)) return [];
  return (alert.data?.fallbacks || []).map((fallback) => {
    const label =
      fallback.action === "channel"
        ? t("fallback.channel", { channel: t(`fallback.source.${fallback.channel}`) })
        : t(`fallback.${fallback.action}`);
    const wired = FALLBACKS_WIRED.has(fallback.action);
    return h(
      "button",
      {
        type: "button",
        class: "alert-fallback",
        "data-action": fallback.action,
        "data-channel": fallback.channel || "",
        disabled: wired ? null : "disabled",
        title: wired ? null : t("fallback.unavailable"),
        onclick: (e) => takeFallback(alert, fallback, e.currentTarget),
      },
      label,
    );
  });
}

async function takeFallback(alert, fallback, button) {
  button.disabled = true;
  try {
    const done = await api.post(`/api/v1/alerts/${alert.id}/fallback`, {
      action: fallback.action,
      channel: fallback.channel,
    });
    // The events follow; apply the answer now so the row goes at once.
    if (done && state.alerts[done.id]) state = { ...state, alerts: { ...state.alerts, [done.id]: done } };
  } catch (err) {
    console.warn("fallback failed", err);
    button.disabled = false;
    button.title = t("fallback.failed");
  }
  renderAlerts();
}

function dismissAlert() {
  $("#alert-banner").hidden = true;
}

// ---------------------------------------------------------------- rendering

function render() {
  if (!token) return;
  renderQueue();
  renderStaff();
  renderGaps();
  renderAlerts();
}

function ktasBadge(ticket) {
  const level = ticket.acuity;
  const suspected = !level && ticket.suspected_acuity;
  const colour = KTAS[level ?? suspected]?.colour ?? "none";
  return h(
    "span",
    {
      class: `ktas ktas-${colour}${level ? "" : " untriaged"}`,
      title: level ? t(`ktas.${level}`) : suspected ? t("case.suspected", { level: suspected }) : t("ktas.untriaged"),
    },
    level ? String(level) : suspected ? `${suspected}?` : "?",
  );
}

function slaBadge(ticket) {
  return h("span", { class: "sla", dataset: { ticketId: String(ticket.id) } });
}

function renderQueue() {
  renderTabs();
  const list = $("#queue");
  const items = displayedItems();
  displayed = items;
  $("#queue-count").textContent = `(${items.length})`;
  const empty = $("#queue-empty");
  empty.hidden = items.length > 0;
  empty.textContent = search.results ? t("search.none") : t("console.queue_empty");
  if ((selectedId === null || !items.some((i) => i.id === selectedId)) && items.length) selectedId = items[0].id;
  replace(
    list,
    items.map((ticket) =>
      h(
        "li",
        {
          class: [
            "ticket",
            ticket.id === selectedId ? "selected" : "",
            ticket.id === openId ? "open" : "",
            hasRedFlags(ticket) ? "red-flag" : "",
            state.sla[ticket.id] ? `sla-${state.sla[ticket.id]}` : "",
          ].join(" "),
          tabindex: "0",
          "aria-selected": ticket.id === selectedId ? "true" : "false",
          dataset: { ticketId: String(ticket.id), caseNumber: ticket.case_number },
          onclick: () => openCase(ticket.id),
        },
        ktasBadge(ticket),
        h(
          "span",
          { class: "ticket-main" },
          h(
            "span",
            { class: "ticket-line" },
            h("span", { class: "who" }, whoText(ticket)),
            ticket.unread
              ? h("span", { class: "unread", title: t("queue.unread", { count: ticket.unread }), "aria-label": t("queue.unread", { count: ticket.unread }) }, String(ticket.unread))
              : null,
          ),
          ticket.preview ? h("span", { class: "preview" }, ticket.preview) : null,
          hasRedFlags(ticket)
            ? h("span", { class: "flags", title: t("case.red_flags") }, `⚑ ${flagLabels(ticket.red_flags)}`)
            : null,
          h(
            "span",
            { class: "ticket-meta muted" },
            h("span", { class: "case-number" }, ticket.case_number),
            ` · ${t(`source.${ticket.source}`)} · ${t(`status.${ticket.status}`)}`,
            ticket.assignee_id ? ` · ${staffName(ticket.assignee_id)}` : "",
          ),
        ),
        h(
          "span",
          { class: "ticket-times" },
          slaBadge(ticket),
          h("span", { class: "waited muted", dataset: { since: ticket.created_at } }),
        ),
      ),
    ),
  );
  tick();
}

/** "김민수 · 34 · 여성 · JP": who the case is about, from the queue row (and the ticket). */
function whoText(ticket) {
  // Admins get no names or patient details (docs/security.md): nothing to say "no name" about.
  const parts = me?.role === "admin" ? [] : [ticket.traveller_name || t("queue.no_name")];
  const age = ticket.patient_age ?? null;
  const sex = ticket.patient_sex ? t(`sex.${ticket.patient_sex}`) : null;
  const ageText = age === null ? null : t("queue.age", { age });
  if (age !== null || sex) parts.push([ageText, sex].filter((x) => x !== null).join(" "));
  if (ticket.country) parts.push(ticket.country);
  return parts.join(" · ");
}

/** The rows on screen: the search's hits, or the tab's open cases from the live state. */
function displayedItems() {
  if (search.results) return search.results;
  return queue(state)
    .filter((ticket) => inView(ticket, view, me?.id))
    .map((ticket) => ({ ...rows.get(ticket.id), ...ticket }));
}

function renderTabs() {
  const counts = viewCounts(state, me?.id);
  const tabs = $("#tabs");
  tabs.setAttribute("aria-label", t("tabs.label"));
  replace(
    tabs,
    VIEWS.map((v) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          id: `tab-${v}`,
          class: "tab",
          "aria-selected": String(v === view && !search.results),
          "aria-controls": "queue",
          dataset: { view: v },
          onclick: () => selectView(v),
        },
        t(`tabs.${v}`),
        " ",
        h("span", { class: "tab-count" }, String(counts[v])),
      ),
    ),
  );
}

function selectView(next) {
  view = next;
  if (search.results || search.q) clearSearch();
  renderQueue();
  scheduleRows(0);
}

// The queue rows' extras (name, age/sex, preview, unread) come from GET /api/v1/tickets; the
// live state says which cases are open and where. Refreshed shortly after events.
let rowsTimer = null;
function scheduleRows(delay = 400) {
  if (rowsTimer !== null && delay > 0) return; // a refresh is already coming: one is enough
  clearTimeout(rowsTimer);
  rowsTimer = setTimeout(() => {
    rowsTimer = null;
    refreshRows();
  }, delay);
}

async function refreshRows() {
  if (!token || !me || me.role === "manager") return;
  try {
    const page = await api.get("/api/v1/tickets", { view, limit: 200 });
    for (const row of page.items) rows.set(row.id, row);
    renderQueue();
  } catch (err) {
    console.warn("queue rows not refreshed", err);
  }
}

// ---------------------------------------------------------------- search

let searchTimer = null;
function onSearchInput() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 300);
}

async function runSearch() {
  clearTimeout(searchTimer);
  const q = $("#search-q").value.trim();
  search.finished = $("#search-finished").checked;
  $("#search-clear").hidden = !$("#search-q").value;
  if (!q) {
    clearSearch();
    return;
  }
  if (charCount(q) < 2) {
    // The API refuses one character (422 query_too_short): say so instead of sending it.
    search.q = "";
    search.results = null;
    noteSearch(() => t("search.too_short"));
    renderQueue();
    return;
  }
  const seq = ++search.seq;
  noteSearch(() => t("search.searching"));
  try {
    const page = await api.get("/api/v1/tickets", { q, status: search.finished ? "all" : undefined, limit: 200 });
    if (seq !== search.seq) return; // a newer search is on its way
    search.q = q;
    search.results = page.items;
    search.total = page.total;
    const count = page.total_capped ? `${page.total.toLocaleString("en-US")}+` : page.total; // "1,000+": counted to the cap
    noteSearch(() => t("search.hits", { count }));
  } catch (err) {
    if (seq !== search.seq) return;
    noteSearch(() => refusalText(err));
  }
  renderQueue();
}

let searchNote = null; // () => the line under the search box, in the current language
function noteSearch(fn) {
  searchNote = fn;
  $("#search-status").textContent = fn ? fn() : "";
}

function clearSearch() {
  search.seq += 1;
  search.q = "";
  search.results = null;
  $("#search-q").value = "";
  $("#search-clear").hidden = true;
  noteSearch(null);
  renderQueue();
}

function staffName(id) {
  if (me && id === me.id) return t("case.me");
  return state.staff[id]?.name || `#${id}`;
}

function renderStaff() {
  replace(
    $("#staff"),
    onDuty(state).map((member) =>
      h(
        "li",
        { class: `presence-${member.presence || "offline"}`, dataset: { staffId: String(member.id) } },
        h("span", { class: "dot", "aria-hidden": "true" }),
        h("span", { class: "name" }, member.name || member.email || `#${member.id}`),
        h("span", { class: "muted" }, ` ${t(`role.${member.role}`)} · ${t(`presence.${member.presence || "offline"}`)}`),
      ),
    ),
  );
}

// ---------------------------------------------------------------- roster gaps (EMT, admin)

function watchesCover() {
  return me && (me.role === "emt" || me.role === "admin");
}

async function loadGaps() {
  if (!token || !watchesCover()) return;
  try {
    rosterGaps = (await api.get("/api/v1/roster/gaps?hours=24")).items;
  } catch {
    return; // the list stays as it was; the next refresh tries again
  }
  renderGaps();
  clearTimeout(gapsTimer);
  gapsTimer = setTimeout(loadGaps, GAPS_REFRESH_MS);
}

function renderGaps() {
  const shown = Boolean(token && watchesCover() && rosterGaps !== null);
  $("#roster-gaps-title").hidden = !shown;
  $("#roster-gaps").hidden = !shown;
  if (!shown) return;
  replace(
    $("#roster-gaps"),
    rosterGaps.length
      ? rosterGaps.map((gap) =>
          h(
            "li",
            { class: "roster-gap" },
            h("time", { datetime: gap.start }, zonedTime(gap.start)),
            " – ",
            h("time", { datetime: gap.end }, zonedTime(gap.end)),
          ),
        )
      : [h("li", { class: "muted" }, t("console.roster_gaps_none"))],
  );
}

function renderAlerts() {
  const open = openAlerts(state);
  const waiting = unacknowledged(state).length;
  const count = $("#alerts-count");
  count.hidden = open.length === 0;
  count.textContent = String(open.length);
  count.classList.toggle("unacknowledged", waiting > 0);
  count.title = t("alerts.count", { open: open.length, waiting });
  $("#alerts-empty").hidden = open.length > 0;
  replace(
    $("#alerts"),
    open.map((alert) => {
      const at = new Date(alert.raised_at);
      const ack = alert.acknowledged_at
        ? h("span", { class: "muted alert-acked" }, t("alerts.acknowledged"))
        : h("button", { type: "button", class: "alert-ack", onclick: (e) => acknowledge(alert, e.currentTarget) }, t("alerts.ack"));
      return h(
        "li",
        {
          class: `alert-item alert-${alert.kind}${alert.acknowledged_at ? " acknowledged" : ""}${alert.escalated_at ? " escalated" : ""}`,
          "data-alert-id": String(alert.id),
          "data-kind": alert.kind,
        },
        alertLevel(alert),
        h(
          "span",
          { class: "alert-what" },
          alert.ticket_id
            ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); openCase(alert.ticket_id); } }, alertText(alert))
            : h("span", {}, alertText(alert)),
          " ",
          h("time", { class: "muted", datetime: at.toISOString() }, zonedTime(at, "Asia/Seoul", { date: false })),
        ),
        ack,
        ...fallbackButtons(alert),
      );
    }),
  );
  keepRinging();
}

function setPresence(presence) {
  me = { ...me, presence };
  connection?.send({ type: "presence", status: presence });
  renderMe();
}

function renderMe() {
  if (!me) return;
  const name = me.name || me.email || `#${me.id}`;
  replace($("#me"), h("span", { class: "me" }, `${name} (${t(`role.${me.role}`)})`));
  const select = $("#presence");
  replace(
    select,
    PRESENCES.map((p) => h("option", { value: p, selected: p === (me.presence || "available") }, t(`presence.${p}`))),
  );
  const sound = $("#sound");
  sound.textContent = alarm.enabled ? t("console.sound_on") : t("console.sound_off");
  sound.setAttribute("aria-pressed", String(alarm.enabled));
}

/** Update the countdowns and waiting times every second without re-rendering the lists. */
function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll(".sla[data-ticket-id]")) {
    const ticket = state.tickets[el.dataset.ticketId] || (detail && String(detail.id) === el.dataset.ticketId ? detail : null);
    if (!ticket) continue;
    const sla = slaStatus(ticket, now, OPEN_STATUSES.includes(ticket.status));
    // "answered" only when a reply reached the traveller; a case closed without one says so.
    el.dataset.state = sla.state === "stopped" && !sla.answered ? "ended" : sla.state;
    el.textContent =
      sla.state === "none"
        ? ""
        : sla.state === "stopped"
          ? t(sla.answered ? "case.sla_stopped" : "case.sla_no_reply")
          : sla.state === "breached"
            ? `⚠ ${t("case.sla_breached", { time: formatCountdown(-sla.remainingMs) })}`
            : `${t("case.sla", { time: formatCountdown(sla.remainingMs) })}`;
  }
  for (const el of document.querySelectorAll(".waited[data-since]")) {
    el.textContent = t("case.waited", { time: formatWaited(now - Date.parse(el.dataset.since), getLocale()) });
  }
}

// ---------------------------------------------------------------- the case view

async function openCase(id) {
  if (id === undefined || id === null) return;
  if (Number(id) !== openId) {
    closeViewer();
    // Unsaved record edits wait for their case, as reply drafts do.
    stashRecord();
    const stashed = recordDrafts.get(Number(id));
    recordDrafts.delete(Number(id));
    recordEdit = stashed?.edit ?? freshRecordEdit(Number(id));
    pendingRecord = stashed?.values ?? null;
    recordConflicts = [];
    changedBy = {};
    timeline = null;
  }
  selectedId = openId = Number(id);
  dismissAlert();
  renderQueue();
  replace($("#case"), h("p", { class: "muted" }, t("case.loading")));
  await loadCase(openId);
}

async function loadCase(id) {
  try {
    const body = await api.get(`/api/v1/tickets/${id}`);
    if (id !== openId) return;
    detail = { messages: [], ...body };
    renderCase();
  } catch (err) {
    if (id !== openId) return;
    detail = null;
    replace($("#case"), h("p", { class: "error" }, t("case.load_failed", { error: refusalText(err, fieldName) })));
  }
}

/** A record field's name in the reader's language (for refusals that name a field). */
function fieldName(name) {
  const f = recordField(name);
  return f ? t(f.label) : name;
}

function field(label, value) {
  return [h("dt", {}, t(label)), h("dd", {}, value === null || value === undefined || value === "" ? t("case.none") : String(value))];
}

function select(name, options, current, labelKey, { allowEmpty = true } = {}) {
  return h(
    "select",
    { name, id: `case-${name}`, "aria-label": t(labelKey) },
    allowEmpty ? h("option", { value: "" }, t("case.none")) : null,
    options.map(([value, label]) => h("option", { value, selected: String(value) === String(current ?? "") }, label)),
  );
}

// Live events re-render the case view; what the clinician was typing or choosing must survive
// that. Controls the user touched are marked dirty; their values, the focus and the caret are
// carried over to the new elements. Reply drafts are also kept per case.
const drafts = new Map();

function captureEdits() {
  const pane = $("#case");
  const active = document.activeElement;
  const edits = { values: {}, focus: null };
  for (const el of pane.querySelectorAll("[data-dirty][id]")) {
    edits.values[el.id] = el.type === "checkbox" ? el.checked : el.value;
  }
  if (active && pane.contains(active) && active.id) {
    edits.focus = { id: active.id, start: active.selectionStart, end: active.selectionEnd };
  }
  return edits;
}

function restoreEdits(edits) {
  for (const [id, value] of Object.entries(edits.values)) {
    const el = document.getElementById(id);
    if (!el) continue;
    if (el.type === "checkbox") el.checked = value;
    else el.value = value;
    el.dataset.dirty = "1";
  }
  if (edits.focus) {
    const el = document.getElementById(edits.focus.id);
    if (el) {
      el.focus();
      if (typeof edits.focus.start === "number" && el.setSelectionRange) {
        el.setSelectionRange(edits.focus.start, edits.focus.end);
      }
    }
  }
}

function markDirty(event) {
  const el = event.target;
  if (el instanceof HTMLElement && el.id) el.dataset.dirty = "1";
  if (el.id === "reply-text" && detail) drafts.set(detail.id, el.value);
  if (el.form?.id === "record-form" && detail && recordField(el.name)) {
    // The first keystroke fixes what this edit started from: a save checks it is still so.
    if (recordEdit.ticketId !== detail.id) recordEdit = freshRecordEdit(detail.id);
    if (recordEdit.version === null) recordEdit.version = detail.version;
    if (!(el.name in recordEdit.base)) recordEdit.base[el.name] = detail[el.name] ?? null;
  }
  updateReplyCount();
}

function renderCase() {
  const pane = $("#case");
  if (!detail) return;
  const edits = pane.dataset.ticketId === String(detail.id) ? captureEdits() : { values: {}, focus: null };
  const c = detail;
  const now = new Date();
  // Only doctors on shift, the available first; an offline one is marked as such.
  const doctors = onDuty(state)
    .filter((s) => s.role === "doctor")
    .sort((a, b) => (PRESENCE_ORDER[a.presence || "offline"] ?? 9) - (PRESENCE_ORDER[b.presence || "offline"] ?? 9));
  const heldBySomeoneElse = c.assignee_id && me && c.assignee_id !== me.id;

  const header = h(
    "header",
    { class: "case-header" },
    ktasBadge(c),
    h("h2", { class: "case-number" }, c.case_number),
    h("span", { class: `status status-${c.status}` }, t(`status.${c.status}`)),
    slaBadge(c),
    h(
      "span",
      { class: "muted" },
      `${t(`channel.${c.channel}`)} / ${t(`source.${c.source}`)} · ${t("case.assignee")}: `,
      c.assignee_id ? staffName(c.assignee_id) : t("case.unassigned"),
    ),
    hasRedFlags(c) ? h("p", { class: "flags" }, `⚑ ${t("case.red_flags")}: ${flagLabels(c.red_flags)}`) : null,
  );

  // Who may do what (docs/security.md): doctors claim; EMTs and admins assign; a held case
  // may be transferred or released by its doctor, an EMT or an admin.
  const role = me?.role;
  const held = Boolean(c.assignee_id);
  const canMove = role === "emt" || role === "admin" || (role === "doctor" && c.assignee_id === me?.id);
  const canAssign = held ? canMove : role === "emt" || role === "admin";
  const actions = h(
    "div",
    { class: "case-actions" },
    role === "doctor"
      ? h("button", { type: "button", id: "claim", class: "primary", disabled: c.assignee_id === me?.id, onclick: claim, title: "c" }, t("case.claim"))
      : null,
    canAssign
      ? h(
          "form",
          { class: "inline", id: "assign-form", onsubmit: assign },
          assignSelect(doctors.filter((d) => d.id !== c.assignee_id)),
          h("button", { type: "submit" }, t(held ? "case.transfer" : "case.assign")),
        )
      : null,
    held && canMove ? h("button", { type: "button", id: "release", onclick: release }, t("case.release")) : null,
    h(
      "form",
      { class: "inline", id: "status-form", onsubmit: changeStatus },
      select("status", STATUSES.filter((s) => s !== c.status).map((s) => [s, t(`status.${s}`)]), null, "case.status"),
      h("button", { type: "submit" }, t("case.apply")),
    ),
    heldBySomeoneElse ? h("span", { class: "muted" }, t("case.claim_lost")) : null,
  );

  const where = h(
    "dl",
    { class: "facts" },
    field("case.local_time", c.timezone ? `${zonedTime(now, c.timezone)} (${c.timezone})` : null),
    field("case.seoul_time", zonedTime(now, "Asia/Seoul")),
  );

  const patient = recordForm(c);
  const triage = h(
    "form",
    { class: "triage", id: "triage-form", onsubmit: saveTriage },
    h("h3", {}, t("case.triage")),
    h(
      "label",
      {},
      t("case.acuity"),
      " ",
      select("acuity", Object.keys(KTAS).map((l) => [l, t(`ktas.${l}`)]), c.acuity, "case.acuity", { allowEmpty: !c.acuity }),
    ),
    h("label", {}, t("case.category"), " ", select("category", CATEGORIES.map((x) => [x, t(`category.${x}`)]), c.category, "case.category", { allowEmpty: !c.category })),
    h("label", {}, t("case.disposition"), " ", select("disposition", DISPOSITIONS.map((x) => [x, t(`disposition.${x}`)]), c.disposition, "case.disposition")),
    h("button", { type: "submit" }, t("case.save_triage")),
  );

  const images = caseImages(c.messages);
  const conversation = h(
    "section",
    { class: "conversation" },
    timelineSection(c),
    h("h3", {}, t("case.conversation")),
    c.messages.length
      ? h(
          "ol",
          { class: "messages", id: "messages" },
          c.messages.map((m) =>
            h(
              "li",
              { class: `message ${m.direction}`, dataset: { messageId: String(m.id) } },
              h(
                "div",
                { class: "message-meta muted" },
                t(`case.${m.direction}`),
                m.author_staff_id ? ` · ${staffName(m.author_staff_id)}` : "",
                ` · ${zonedTime(m.created_at, "Asia/Seoul")}`,
                m.delivery ? ` · ${t(`case.delivery.${m.delivery}`)}` : "",
                // Automatic (acknowledgement, emergency reminder) or re-sent on another channel.
                m.kind ? ` · ${t(`case.kind.${m.kind}`)} (${m.source})` : "",
              ),
              // The traveller got no case number or emergency number: say so where it is seen.
              m.ack_withheld
                ? h("p", { class: "ack-withheld" }, `⚠ ${t(`case.ack_withheld.${m.ack_withheld}`)}`)
                : null,
              // Traveller text is text: textContent only, never parsed as HTML.
              m.text ? h("p", { class: "message-text" }, m.text) : null,
              attachmentBlock(api, m, images),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("case.no_messages")),
  );

  const lang = replyLanguage(c);
  const reply = h(
    "form",
    { class: "reply", id: "reply-form", onsubmit: sendReply },
    h("h3", {}, t("case.reply")),
    fillCanned(
      h("select", { id: "canned", "aria-label": t("case.canned"), onchange: insertCanned }, h("option", { value: "" }, `${t("case.canned")}…`)),
      api,
      c,
    ),
    h("textarea", { name: "text", id: "reply-text", rows: "4", maxlength: "5000", placeholder: t("case.reply_placeholder"), lang, onkeydown: sendOnCtrlEnter }),
    replyAttach(api, c, (detail) => refusalText({ code: detail?.code, detail })),
    h("label", { class: "note" }, h("input", { type: "checkbox", name: "internal", id: "reply-internal" }), " ", t("case.note")),
    h("button", { type: "submit", class: "primary" }, t("case.send")),
  );

  replace(
    pane,
    handoffBanner(c),
    header,
    actions,
    h(
      "div",
      { class: "case-body" },
      h("div", { class: "case-main" }, conversation, reply),
      h("div", { class: "case-side" }, where, followupSection(c), handoffForm(c), triage, patient),
    ),
  );
  pane.dataset.ticketId = String(c.id);
  const draft = drafts.get(c.id);
  if (draft && !("reply-text" in edits.values)) {
    $("#reply-text").value = draft;
    $("#reply-text").dataset.dirty = "1";
  }
  restoreEdits(edits);
  if (pendingRecord && recordEdit.ticketId === c.id) {
    restoreEdits({ values: pendingRecord, focus: null });
    pendingRecord = null;
  }
  decorateReply();
  const list = $("#messages");
  if (list) list.scrollTop = list.scrollHeight;
  tick();
}

// ---------------------------------------------------------------- the case record

let tzList = null;
/** A datalist of IANA zone names for the time zone field (built once). */
function timeZoneList() {
  if (tzList) return tzList;
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  tzList = h("datalist", { id: "tz-list" }, zones.map((z) => h("option", { value: z })));
  document.body.appendChild(tzList);
  return tzList;
}

function recordForm(c) {
  const marks = selfReported(c);
  // A doctor edits an unheld case or their own; an EMT any (the API's rule, shown before a save).
  const locked = me?.role === "doctor" && Boolean(c.assignee_id) && c.assignee_id !== me.id;
  timeZoneList();
  return h(
    "form",
    { class: "record", id: "record-form", onsubmit: saveRecord, novalidate: true },
    h("h3", {}, t("record.title")),
    locked ? h("p", { class: "muted wide-note" }, t("record.locked")) : null,
    RECORD_FIELDS.map((f) => recordControl(f, c, marks, locked)),
    // Beside the button just pressed: what the other person saved, theirs against yours.
    conflictPanel(),
    h(
      "div",
      { class: "record-actions" },
      h("button", { type: "submit", id: "record-save", disabled: locked, class: recordConflicts.length ? "primary" : "" }, t(recordConflicts.length ? "record.save_mine" : "record.save")),
    ),
  );
}

function recordControl(f, c, marks, locked) {
  const id = `rec-${f.name}`;
  const value = formText(f.name, c[f.name]);
  const hint = f.hint ? t(f.hint) : undefined;
  let control;
  if (f.kind === "choice") {
    control = h(
      "select",
      { id, name: f.name },
      h("option", { value: "" }, t("case.none")),
      f.choices.map((x) => h("option", { value: x, selected: x === c[f.name] }, t(`${f.prefix}${x}`))),
    );
  } else if (f.kind === "area") {
    control = h("textarea", { id, name: f.name, rows: f.max > 2000 ? "3" : "2", text: value });
  } else if (f.kind === "number") {
    control = h("input", { id, name: f.name, type: "number", min: String(f.min), max: String(f.max), inputmode: "numeric", value });
  } else {
    control = h("input", {
      id,
      name: f.name,
      type: "text",
      value,
      placeholder: hint,
      autocomplete: "off",
      list: f.name === "timezone" ? "tz-list" : undefined,
      autocapitalize: f.name === "country" ? "characters" : undefined,
      size: f.name === "country" ? "4" : undefined,
    });
  }
  if (locked) control.disabled = true;
  // A field edited here that someone else changed meanwhile: say what they saved.
  const started = recordEdit.ticketId === c.id && f.name in recordEdit.base;
  const mine = me && changedBy[f.name] === me.id; // my own save, echoed back by the socket
  const moved = started && !mine && !sameValue(c[f.name], recordEdit.base[f.name]);
  const by = changedBy[f.name] !== undefined ? staffName(changedBy[f.name]) : null;
  return h(
    "div",
    {
      class: `record-field record-${f.kind}${f.wide ? " wide" : ""}${recordConflicts.some((x) => x.name === f.name) ? " conflicted" : ""}`,
      dataset: { field: f.name },
    },
    h(
      "label",
      { for: id },
      t(f.label),
      marks.has(f.name)
        ? h("span", { class: "self-reported", title: t("record.self_reported_title") }, t("record.self_reported"))
        : null,
    ),
    control,
    moved
      ? h("p", { class: "changed-meanwhile" }, `${by ? t("record.changed_by", { name: by }) : t("record.conflict_theirs")}: ${displayValue(f.name, c[f.name], t)}`)
      : null,
  );
}

function conflictPanel() {
  if (!recordConflicts.length) return null;
  return h(
    "div",
    { class: "conflict", id: "record-conflict", role: "alert" },
    h("strong", {}, t("record.conflict_title")),
    h("p", {}, t("record.conflict_text")),
    h(
      "ul",
      { class: "conflict-list" },
      recordConflicts.map((x) =>
        h(
          "li",
          { dataset: { field: x.name } },
          h(
            "strong",
            { class: "conflict-field" },
            fieldName(x.name),
            changedBy[x.name] !== undefined ? h("span", { class: "muted" }, ` (${staffName(changedBy[x.name])})`) : null,
          ),
          h("dl", {}, h("dt", {}, t("record.conflict_theirs")), h("dd", { class: "theirs" }, displayValue(x.name, x.theirs, t)), h("dt", {}, t("record.conflict_yours")), h("dd", { class: "yours" }, displayValue(x.name, x.yours, t))),
          h("button", { type: "button", class: "use-theirs", onclick: () => useTheirs(x.name) }, t("record.use_theirs")),
        ),
      ),
    ),
  );
}

/** The record form's edited controls: name → text. */
function recordInput(form) {
  const input = {};
  for (const f of RECORD_FIELDS) {
    const el = form.elements[f.name];
    if (el?.dataset.dirty) input[f.name] = el.value;
  }
  return input;
}

async function saveRecord(event, attempt = 0) {
  event?.preventDefault?.();
  const form = $("#record-form");
  if (!form || !detail) return;
  const id = detail.id;
  const base = {};
  for (const f of RECORD_FIELDS) base[f.name] = f.name in recordEdit.base ? recordEdit.base[f.name] : detail[f.name] ?? null;
  // A number box holding letters reads as empty: never let that clear the age.
  const unreadable = RECORD_FIELDS.map((f) => form.elements[f.name]).find((el) => el?.validity?.badInput);
  if (unreadable) {
    toast(t("error.invalid_field", { field: fieldName(unreadable.name) }), true);
    unreadable.focus();
    return;
  }
  const body = changedValues(base, recordInput(form));
  if (!Object.keys(body).length) {
    forgetEdits(form);
    recordEdit = freshRecordEdit(id);
    toast(t("record.unchanged"));
    return;
  }
  const version = recordEdit.version ?? detail.version;
  const button = $("#record-save");
  if (button) button.disabled = true;
  try {
    const saved = await api.request("PATCH", `/api/v1/tickets/${id}`, { json: { version, ...body } });
    if (id !== openId) return;
    forgetEdits($("#record-form"));
    recordEdit = freshRecordEdit(id);
    recordConflicts = [];
    if ((saved.version ?? 0) >= (detail.version ?? 0)) detail = { ...detail, ...saved };
    renderCase();
    toast(t("record.saved"));
  } catch (err) {
    if (id !== openId) return;
    if (err.code === "stale_version" && err.detail?.current) {
      const current = err.detail.current;
      const found = conflicts(base, current, body);
      recordEdit.version = err.detail.version;
      for (const [name, value] of Object.entries(current)) {
        recordEdit.base[name] = value;
        if (!sameValue(detail[name], value)) detail = { ...detail, [name]: value };
      }
      if (!found.length && attempt < 2) {
        // The case moved on (a message, a triage) but nobody touched these fields: save again.
        return saveRecord(null, attempt + 1);
      }
      recordConflicts = found;
      renderCase();
      $("#record-conflict")?.scrollIntoView({ block: "nearest" });
      return;
    }
    toast(t("case.action_failed", { error: refusalText(err, fieldName) }), true);
    const current = $("#record-save");
    if (current) current.disabled = false;
  }
}

function useTheirs(name) {
  const x = recordConflicts.find((c) => c.name === name);
  const el = $("#record-form")?.elements[name];
  if (!x || !el) return;
  el.value = formText(name, x.theirs);
  delete el.dataset.dirty;
  delete recordEdit.base[name];
  recordConflicts = recordConflicts.filter((c) => c.name !== name);
  renderCase();
}

// ---------------------------------------------------------------- the timeline

function timelineSection(c) {
  const items = timeline && timeline.ticketId === c.id ? timeline.items : null;
  const details = h(
    "details",
    { class: "timeline", id: "timeline", open: timelineOpen },
    h("summary", {}, t("timeline.title")),
    items === null
      ? h("p", { class: "muted" }, t("case.loading"))
      : items.length
        ? h(
            "ol",
            { class: "timeline-list" },
            items.map((item) => {
              const { who, what } = describeItem(item, t, staffName);
              return h(
                "li",
                { dataset: { event: item.name } },
                h("time", { datetime: item.at }, zonedTime(item.at, "Asia/Seoul")),
                h("span", { class: "tl-who" }, who),
                h("span", { class: "tl-what" }, what),
              );
            }),
          )
        : h("p", { class: "muted" }, t("timeline.empty")),
    timeline && timeline.total > (items?.length ?? 0)
      ? h("p", { class: "muted" }, t("timeline.more", { count: timeline.total - items.length }))
      : null,
  );
  details.addEventListener("toggle", () => {
    timelineOpen = details.open;
    if (timelineOpen && (!timeline || timeline.ticketId !== c.id)) loadTimeline(c.id);
  });
  return details;
}

let timelineTimer = null;
function scheduleTimeline() {
  if (timelineTimer !== null) return;
  timelineTimer = setTimeout(() => {
    timelineTimer = null;
    if (openId !== null && timelineOpen) loadTimeline(openId);
  }, 800);
}

async function loadTimeline(id) {
  try {
    // The newest 500 events: a long case shows its latest history, with a note of what is left.
    const first = await api.get(`/api/v1/tickets/${id}/timeline`, { limit: 500 });
    let page = first;
    if (first.total > first.items.length) {
      page = await api.get(`/api/v1/tickets/${id}/timeline`, { limit: 500, offset: first.total - 500 });
    }
    if (id !== openId) return;
    timeline = { ticketId: id, items: page.items, total: page.total };
  } catch (err) {
    if (id !== openId) return;
    timeline = { ticketId: id, items: [], total: 0 };
    toast(t("case.action_failed", { error: refusalText(err) }), true);
  }
  renderCase();
}

// ---------------------------------------------------------------- assigning and resolving

function assignSelect(doctors) {
  return h(
    "select",
    { name: "staff_id", id: "case-staff_id", "aria-label": t("case.assign_to") },
    h("option", { value: "" }, doctors.length ? t("case.none") : t("assign.none")),
    doctors.map((d) => {
      const presence = d.presence || "offline";
      const label = presence === "offline" ? `○ ${d.name} — ${t("assign.offline")}` : `${d.name} · ${t(`presence.${presence}`)}`;
      return h("option", { value: d.id, class: `presence-${presence}` }, label);
    }),
  );
}

function openResolve() {
  const c = detail;
  if (!c) return;
  const level = c.acuity ?? c.suspected_acuity;
  const urgent = Boolean(level && level <= 3);
  const noReply = !c.first_response_at;
  if (!urgent && !noReply) {
    act("status", { status: "resolved" }, "resolve.done", $("#status-form"));
    return;
  }
  const dialog = $("#resolve-dialog");
  const form = $("#resolve-form");
  const id = c.id;
  replace(
    form,
    h("h2", { id: "resolve-title" }, t("resolve.title", { case: c.case_number })),
    urgent ? h("p", { class: "resolve-urgent" }, `⚠ ${t("resolve.urgent", { level: t(`ktas.${level}`) })}`) : null,
    noReply
      ? h(
          "fieldset",
          { class: "reasons" },
          h("legend", {}, t("resolve.no_reply")),
          REASONS.map((r) =>
            h("label", { class: "reason" }, h("input", { type: "radio", name: "reason", value: r }), " ", t(`reason.${r}`)),
          ),
        )
      : null,
    h("p", { id: "resolve-error", class: "error", role: "alert" }),
    h(
      "div",
      { class: "dialog-actions" },
      h("button", { type: "button", id: "resolve-cancel", onclick: () => dialog.close() }, t("resolve.cancel")),
      h("button", { type: "submit", id: "resolve-confirm", class: "danger" }, t("resolve.confirm")),
    ),
  );
  form.onsubmit = async (event) => {
    event.preventDefault();
    const reason = form.elements.reason?.value || undefined;
    const button = $("#resolve-confirm");
    button.disabled = true;
    try {
      // Sent even without a reason: a colleague's reply may have reached the traveller since.
      await api.post(`/api/v1/tickets/${id}/status`, { status: "resolved", reason });
      dialog.close();
      forgetEdits($("#status-form"));
      toast(t("resolve.done"));
      if (id === openId) await loadCase(id);
    } catch (err) {
      $("#resolve-error").textContent = refusalText(err);
      button.disabled = false;
    }
  };
  dialog.showModal();
  (form.querySelector("input[name=reason]") || $("#resolve-cancel")).focus();
}

// ---------------------------------------------------------------- the reply box

/** The counter under the reply box (the box itself is built with the canned replies). */
function decorateReply() {
  const box = $("#reply-text");
  if (!box) return;
  // A browser maxlength would cut a long paste without a word: the counter says it instead.
  box.removeAttribute("maxlength");
  box.setAttribute("aria-describedby", "reply-count");
  if (!$("#reply-count")) box.after(h("p", { id: "reply-count", class: "reply-count muted" }));
  updateReplyCount();
}

function updateReplyCount() {
  const box = $("#reply-text");
  const out = $("#reply-count");
  if (!box || !out) return;
  const left = replyLimit - charCount(box.value);
  out.textContent = left >= 0 ? t("reply.left", { count: left.toLocaleString() }) : t("reply.over", { count: (-left).toLocaleString() });
  out.classList.toggle("over", left < 0);
  out.classList.toggle("near", left >= 0 && left < 200);
  box.setAttribute("aria-invalid", String(left < 0));
}

/** After an action succeeded, its form shows the server's state again, not the edits. */
function forgetEdits(form) {
  for (const el of form?.querySelectorAll?.("[data-dirty]") || []) delete el.dataset.dirty;
}

function insertCanned(event) {
  const canned = cannedReply(event.target.value);
  if (!canned) return;
  const box = $("#reply-text");
  box.value = box.value ? `${box.value}\n${canned.text}` : canned.text;
  box.lang = canned.language;
  box.dataset.dirty = "1";
  if (detail) drafts.set(detail.id, box.value);
  event.target.value = "";
  box.focus();
}

function sendOnCtrlEnter(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
}

async function act(path, body, okMessage = "case.saved", form = null) {
  const id = openId;
  try {
    await api.post(`/api/v1/tickets/${id}/${path}`, body);
    forgetEdits(form);
    toast(t(okMessage));
    if (id === openId) await loadCase(id);
    return true;
  } catch (err) {
    if (err.code === "text_too_long" && err.detail?.max_chars) replyLimit = err.detail.max_chars;
    const text = path === "claim" && err.status === 409 ? t("case.claim_lost") : t("case.action_failed", { error: refusalText(err, fieldName) });
    toast(text, true);
    return false;
  }
}

function claim() {
  return act("claim", {});
}

// ---- follow-ups and the handoff note ----------------------------------------------------

/** The leaving holder's note, at the top of the case for the next doctor. */
function handoffBanner(c) {
  if (!c.handoff) return null;
  return h(
    "aside",
    { class: "handoff", id: "handoff-note", role: "note" },
    h("strong", {}, t("handoff.title")),
    ` · ${staffName(c.handoff.by)} · ${zonedTime(c.handoff.at, "Asia/Seoul")}`,
    // Staff text is text: textContent only.
    h("p", {}, c.handoff.note),
  );
}

/** The holder writes the note the next doctor reads. */
function handoffForm(c) {
  if (!me || c.assignee_id !== me.id) return null;
  return h(
    "form",
    { class: "handoff-form", id: "handoff-form", onsubmit: saveHandoff },
    h("h3", {}, t("handoff.write")),
    h("textarea", { name: "note", id: "handoff-text", rows: "3", maxlength: "2000", required: true, "aria-label": t("handoff.write") }),
    h("button", { type: "submit" }, t("handoff.save")),
  );
}

function followupSection(c) {
  const items = c.followups || [];
  const soon = new Date(Date.now() + 60 * 60 * 1000);
  const local = new Date(soon.getTime() - soon.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  return h(
    "section",
    { class: "followups", id: "followups" },
    h("h3", {}, t("followup.title")),
    items.length
      ? h(
          "ul",
          { class: "followup-list" },
          items.map((f) =>
            h(
              "li",
              { class: f.done_at ? "done" : "", dataset: { followupId: String(f.id) } },
              h("span", { class: "muted" }, zonedTime(f.due_at, "Asia/Seoul")),
              " ",
              h("span", {}, f.note),
              f.done_at
                ? h("span", { class: "muted" }, ` · ${t("followup.done")}`)
                : h("button", { type: "button", class: "followup-done", onclick: () => followupDone(f.id) }, t("followup.mark_done")),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("followup.none")),
    h(
      "form",
      { class: "followup-form", id: "followup-form", onsubmit: addFollowup },
      h("label", {}, t("followup.due"), " ", h("input", { type: "datetime-local", name: "due_at", id: "followup-due", required: true, value: local })),
      h("input", { type: "text", name: "note", id: "followup-note", maxlength: "2000", required: true, placeholder: t("followup.note"), "aria-label": t("followup.note") }),
      h("button", { type: "submit" }, t("followup.add")),
    ),
  );
}

function addFollowup(event) {
  event.preventDefault();
  const form = event.target;
  // datetime-local is the browser's local time: send it with its offset.
  const due = new Date(form.due_at.value);
  if (Number.isNaN(due.getTime())) return false;
  return act("followups", { due_at: due.toISOString(), note: form.note.value }, "followup.added", form).then((ok) => ok && clearField("#followup-note"));
}

/** A saved form's text goes (a live re-render may have carried it over first). */
function clearField(selector) {
  const el = $(selector);
  if (!el) return;
  el.value = "";
  delete el.dataset.dirty;
}

async function followupDone(id) {
  try {
    await api.post(`/api/v1/followups/${id}/done`);
    toast(t("followup.done"));
    if (openId) await loadCase(openId);
  } catch (err) {
    toast(t("case.action_failed", { error: refusalText(err, fieldName) }), true);
  }
}

function saveHandoff(event) {
  event.preventDefault();
  const form = event.target;
  return act("handoff", { note: form.note.value }, "handoff.saved", form).then((ok) => ok && clearField("#handoff-text"));
}

function assign(event) {
  event.preventDefault();
  const value = event.currentTarget.staff_id.value;
  if (value) act(detail?.assignee_id ? "transfer" : "assign", { staff_id: Number(value) }, "case.saved", event.currentTarget);
}

function release() {
  return act("release", {});
}

function changeStatus(event) {
  event.preventDefault();
  const value = event.currentTarget.status.value;
  // Resolving is a decision: an urgent case asks first, one without a reply asks why.
  if (value === "resolved") openResolve();
  else if (value) act("status", { status: value }, "case.saved", event.currentTarget);
}

function saveTriage(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const body = { acuity: Number(form.acuity.value), category: form.category.value };
  if (form.disposition.value) body.disposition = form.disposition.value;
  if (!body.acuity || !body.category) return;
  act("triage", body, "case.saved", form);
}

async function sendReply(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const text = form.text.value.trim();
  const id = openId;
  if (replyUploading(id)) {
    toast(t("attach.wait"), true);
    return;
  }
  const attachments = replyFileIds(id);
  if (!text && !attachments.length) return;
  if (charCount(text) > replyLimit) {
    toast(t("error.text_too_long", { max: replyLimit.toLocaleString() }), true);
    return; // nothing is cut: the text stays for the writer to shorten
  }
  const internal = form.internal.checked;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  // Cleared before the answer: the re-render that follows must not bring the text back.
  drafts.delete(id);
  forgetEdits(form);
  form.text.value = "";
  const files = takeReplyFiles(id); // likewise the files
  const body = attachments.length ? { text, internal, attachments } : { text, internal };
  const ok = await act("messages", body, internal ? "case.saved" : "case.sent");
  const current = $("#reply-form");
  if (current) current.querySelector("button[type=submit]").disabled = false;
  if (ok) {
    if (current) current.internal.checked = false;
  } else {
    putReplyFiles(id, files); // nothing was sent: the files stay attached
    if (current && id === openId && !current.text.value) {
      current.text.value = text; // and the text comes back
      current.text.dataset.dirty = "1";
      drafts.set(id, text);
    }
    if (files.length && id === openId) await loadCase(id);
  }
  updateReplyCount(); // the limit may have come with a refusal
}

let toastTimer = null;
function toast(text, isError = false) {
  const el = $("#toast");
  el.textContent = text;
  el.classList.toggle("error", isError);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

// ---------------------------------------------------------------- keyboard

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

function moveSelection(step) {
  const items = displayed;
  if (!items.length) return;
  const index = items.findIndex((t) => t.id === selectedId);
  const next = items[Math.min(items.length - 1, Math.max(0, index + step))];
  selectedId = next.id;
  renderQueue();
  document.querySelector(`.ticket[data-ticket-id="${next.id}"]`)?.focus();
}

const ACTIONS = {
  next: () => moveSelection(1),
  prev: () => moveSelection(-1),
  open: () => openCase(selectedId),
  claim: () => detail && claim(),
  reply: () => $("#reply-text")?.focus(),
  note: () => {
    const box = $("#reply-internal");
    if (box) {
      box.checked = true;
      $("#reply-text").focus();
    }
  },
  triage: () => $("#case-acuity")?.focus(),
  status: () => $("#case-status")?.focus(),
  assign: () => $("#case-staff_id")?.focus(),
  help: () => $("#help").showModal(),
  search: () => $("#search-q")?.focus(),
  escape: () => dismissAlert(),
};

function onKey(event) {
  alarm.unlock();
  if (!token || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target?.closest?.("#viewer")) return; // the photo viewer has its own keys
  if (event.key === "Escape") {
    dismissAlert();
    if (isTyping(event.target)) event.target.blur();
    return;
  }
  if (isTyping(event.target)) return;
  const row = event.key === "Enter" && event.target instanceof Element ? event.target.closest(".ticket") : null;
  if (row) {
    event.preventDefault();
    openCase(Number(row.dataset.ticketId));
    return;
  }
  const keyMap = { j: "next", ArrowDown: "next", k: "prev", ArrowUp: "prev", Enter: "open", "?": "help" };
  const shortcut = SHORTCUTS.find(([key]) => key === event.key);
  const action = keyMap[event.key] || shortcut?.[1];
  if (action && ACTIONS[action]) {
    event.preventDefault();
    ACTIONS[action]();
  }
}

function renderHelp() {
  replace(
    $("#help-keys"),
    SHORTCUTS.map(([key, , label]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, t(label))]),
  );
}

// ---------------------------------------------------------------- wiring

function applyLocale() {
  translatePage();
  const lang = $("#lang");
  lang.textContent = getLocale() === "ko" ? "English" : "한국어";
  lang.lang = getLocale() === "ko" ? "en" : "ko";
  setStatus(status);
  renderHelp();
  renderMe();
  render();
  renderCase();
  noteSearch(searchNote);
}

function init() {
  setLocale(initialLocale(), { remember: false });
  onLocaleChange(applyLocale);
  $("#signin").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut());
  $("#lang").addEventListener("click", () => setLocale(getLocale() === "ko" ? "en" : "ko"));
  $("#presence").addEventListener("change", (e) => setPresence(e.target.value));
  $("#sound").addEventListener("click", () => {
    alarm.enabled = !alarm.enabled;
    renderMe();
  });
  $("#help-open").addEventListener("click", () => $("#help").showModal());
  $("#search").addEventListener("submit", (e) => {
    e.preventDefault();
    runSearch();
  });
  $("#search-q").addEventListener("input", onSearchInput);
  $("#search-finished").addEventListener("change", () => $("#search-q").value.trim() && runSearch());
  $("#search-clear").addEventListener("click", () => {
    clearSearch();
    $("#search-q").focus();
  });
  document.addEventListener("keydown", onKey);
  $("#case").addEventListener("input", markDirty);
  $("#case").addEventListener("change", markDirty);
  window.addEventListener("online", () => connection?.reconnectNow());
  setInterval(tick, 1000);
  applyLocale();
  if (token) start();
  else showSignedIn(false);
}

init();
