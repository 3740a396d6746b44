// The triage console: sign-in, the live queue, the case view, presence and alerts.
// State comes from /ws/console (snapshot, then events applied by state.js); actions go through
// the HTTP API and come back as events, so every console shows the same thing.
import { Api, describeError, wsUrl } from "../shared/api.js";
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
import { SHORTCUTS } from "./messages.js";
import { formatCountdown, formatWaited, slaStatus } from "./sla.js";
import { alertFor, applyEvent, applySnapshot, emptyState, hasRedFlags, onDuty, queue } from "./state.js";

let token = loadToken();
let me = null;
let state = emptyState();
let connection = null;
let status = "signed_out";
let selectedId = null; // highlighted in the queue
let openId = null; // shown in the case view
let detail = null; // GET /tickets/{id} of the open case
const alarm = new Alarm();
const alerts = [];

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
    $("#signin-error").textContent = err.status === 401 ? t("signin.failed") : describeError(err);
  }
}

function signOut(reason) {
  connection?.stop();
  connection = null;
  token = null;
  me = null;
  clearToken();
  state = emptyState();
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
  showSignedIn(true);
  renderMe();
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

function showSignedIn(signedIn) {
  $("#signin").hidden = signedIn;
  $("#workspace").hidden = !signedIn;
  for (const id of ["#sign-out", "#presence-box", "#sound", "#help-open"]) $(id).hidden = !signedIn;
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
}

function onEvent(event) {
  const alert = alertFor(state, event);
  state = applyEvent(state, event);
  if (event.name === "presence.changed" && me && state.staff[me.id]) {
    me = { ...me, presence: state.staff[me.id].presence };
    renderMe();
  }
  if (alert) raise(alert);
  if (detail && event.ticket_id === detail.id) {
    const ticket = event.data?.ticket;
    if (ticket && (ticket.version ?? 0) >= (detail.version ?? 0)) detail = { ...detail, ...ticket };
    const message = event.data?.message;
    if (message && !detail.messages.some((m) => m.id === message.id)) {
      detail = { ...detail, messages: [...detail.messages, message] };
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
  alerts.unshift({ ...alert, text, at: new Date() });
  alerts.length = Math.min(alerts.length, 20);
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
  const list = $("#queue");
  const items = queue(state);
  $("#queue-count").textContent = `(${items.length})`;
  $("#queue-empty").hidden = items.length > 0;
  if (selectedId === null && items.length) selectedId = items[0].id;
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
          h("span", { class: "case-number" }, ticket.case_number),
          hasRedFlags(ticket)
            ? h("span", { class: "flags", title: t("case.red_flags") }, `⚑ ${flagLabels(ticket.red_flags)}`)
            : null,
          h(
            "span",
            { class: "ticket-meta muted" },
            `${t(`source.${ticket.source}`)} · ${t(`status.${ticket.status}`)}`,
            ticket.country ? ` · ${ticket.country}` : "",
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

function renderAlerts() {
  replace(
    $("#alerts"),
    alerts.map((alert) =>
      h(
        "li",
        { class: `alert-item alert-${alert.kind}` },
        h("time", { class: "muted" }, timeText(alert.at, undefined, false)),
        " ",
        h("a", { href: "#", onclick: (e) => { e.preventDefault(); openCase(alert.ticketId); } }, alert.text),
      ),
    ),
  );
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
    el.dataset.state = sla.state;
    el.textContent =
      sla.state === "none"
        ? ""
        : sla.state === "stopped"
          ? t("case.sla_stopped")
          : sla.state === "breached"
            ? `⚠ ${t("case.sla_breached", { time: formatCountdown(-sla.remainingMs) })}`
            : `⏱ ${t("case.sla", { time: formatCountdown(sla.remainingMs) })}`;
  }
  for (const el of document.querySelectorAll(".waited[data-since]")) {
    el.textContent = t("case.waited", { time: formatWaited(now - Date.parse(el.dataset.since), getLocale()) });
  }
}

// ---------------------------------------------------------------- the case view

async function openCase(id) {
  if (id === undefined || id === null) return;
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
    replace($("#case"), h("p", { class: "error" }, t("case.load_failed", { error: describeError(err) })));
  }
}

function timeText(value, timeZone, withDate = true) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  const options = withDate
    ? { dateStyle: "short", timeStyle: "short", timeZone }
    : { timeStyle: "short", timeZone };
  try {
    return new Intl.DateTimeFormat(getLocale(), options).format(date);
  } catch {
    return new Intl.DateTimeFormat(getLocale(), { ...options, timeZone: undefined }).format(date);
  }
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
}

function renderCase() {
  const pane = $("#case");
  if (!detail) return;
  const edits = pane.dataset.ticketId === String(detail.id) ? captureEdits() : { values: {}, focus: null };
  const c = detail;
  const now = new Date();
  const doctors = onDuty(state).filter((s) => s.role === "doctor");
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
          select("staff_id", doctors.filter((d) => d.id !== c.assignee_id).map((d) => [d.id, `${d.name} · ${t(`presence.${d.presence || "offline"}`)}`]), null, "case.assign_to"),
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
    field("case.country", c.country),
    field("case.location", c.location_type ? t(`location.${c.location_type}`) + (c.vessel_or_flight ? ` (${c.vessel_or_flight})` : "") : null),
    field("case.local_time", c.timezone ? `${timeText(now, c.timezone)} (${c.timezone})` : null),
    field("case.seoul_time", timeText(now, "Asia/Seoul")),
  );

  const patient = h(
    "section",
    { class: "patient" },
    h("h3", {}, t("case.patient")),
    h(
      "dl",
      { class: "facts" },
      field("case.age", c.patient_age),
      field("case.sex", c.patient_sex ? t(`sex.${c.patient_sex}`) : null),
      field("case.onset", c.symptoms_onset),
      field("case.conditions", c.conditions),
      field("case.medication", c.medication),
      field("case.allergies", c.allergies),
    ),
  );

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

  const conversation = h(
    "section",
    { class: "conversation" },
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
                ` · ${timeText(m.created_at, "Asia/Seoul")}`,
                m.delivery ? ` · ${t(`case.delivery.${m.delivery}`)}` : "",
              ),
              // The traveller got no case number or emergency number: say so where it is seen.
              m.ack_withheld
                ? h("p", { class: "ack-withheld" }, `⚠ ${t(`case.ack_withheld.${m.ack_withheld}`)}`)
                : null,
              // Traveller text is text: textContent only, never parsed as HTML.
              h("p", { class: "message-text" }, m.text),
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
    h("textarea", { name: "text", id: "reply-text", rows: "4", maxlength: "5000", required: true, placeholder: t("case.reply_placeholder"), lang, onkeydown: sendOnCtrlEnter }),
    h("label", { class: "note" }, h("input", { type: "checkbox", name: "internal", id: "reply-internal" }), " ", t("case.note")),
    h("button", { type: "submit", class: "primary" }, t("case.send")),
  );

  replace(
    pane,
    header,
    actions,
    h("div", { class: "case-body" }, h("div", { class: "case-main" }, conversation, reply), h("div", { class: "case-side" }, where, triage, patient)),
  );
  pane.dataset.ticketId = String(c.id);
  const draft = drafts.get(c.id);
  if (draft && !("reply-text" in edits.values)) {
    $("#reply-text").value = draft;
    $("#reply-text").dataset.dirty = "1";
  }
  restoreEdits(edits);
  const list = $("#messages");
  if (list) list.scrollTop = list.scrollHeight;
  tick();
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
    const text = path === "claim" && err.status === 409 ? t("case.claim_lost") : t("case.action_failed", { error: describeError(err) });
    toast(text, true);
    return false;
  }
}

function claim() {
  return act("claim", {});
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
  if (value) act("status", { status: value }, "case.saved", event.currentTarget);
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
  if (!text) return;
  const internal = form.internal.checked;
  const id = openId;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  // Cleared before the answer: the re-render that follows must not bring the text back.
  drafts.delete(id);
  forgetEdits(form);
  form.text.value = "";
  const ok = await act("messages", { text, internal }, internal ? "case.saved" : "case.sent");
  const current = $("#reply-form");
  if (current) current.querySelector("button[type=submit]").disabled = false;
  if (ok) {
    if (current) current.internal.checked = false;
  } else if (current && id === openId && !current.text.value) {
    current.text.value = text; // nothing was sent: give the text back
    current.text.dataset.dirty = "1";
    drafts.set(id, text);
  }
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
  const items = queue(state);
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
  escape: () => dismissAlert(),
};

function onKey(event) {
  alarm.unlock();
  if (!token || event.ctrlKey || event.metaKey || event.altKey) return;
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
