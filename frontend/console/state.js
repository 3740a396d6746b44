// The console's state as a pure function of a snapshot and the events after it:
// applySnapshot(snapshot) then applyEvent(state, event)… gives the same state the server
// would show in a fresh snapshot. No DOM, no network: tested with `node --test`.
import { OPEN_STATUSES } from "../shared/domain.js";

/** An empty state: nothing known yet. */
export function emptyState() {
  return { lastEventId: null, tickets: {}, staff: {}, sla: {}, me: null, alerts: {}, totals: {} };
}

/**
 * The state described by a `snapshot` frame. Tolerant of the frame's field names: tickets under
 * `queue`, `tickets` or `items` (plus `my_cases`), staff under `staff` or `on_duty`.
 */
export function applySnapshot(snapshot, previous = emptyState()) {
  const state = { ...emptyState(), me: previous.me };
  const lists = [snapshot.queue, snapshot.tickets, snapshot.items, snapshot.my_cases];
  for (const list of lists) {
    for (const ticket of asItems(list)) state.tickets[ticket.id] = ticket;
  }
  for (const member of asItems(snapshot.staff ?? snapshot.on_duty)) {
    state.staff[member.id] = member;
  }
  for (const alert of asItems(snapshot.alerts)) state.alerts[alert.id] = alert;
  if (snapshot.me) state.me = snapshot.me;
  // A snapshot lists the first rows of the queue; its totals count them all.
  state.totals = {
    queue: numberOr(snapshot.queue?.total, null),
    mine: numberOr(snapshot.my_cases?.total, null),
    alerts: numberOr(snapshot.alerts?.total, null),
  };
  state.lastEventId = numberOr(snapshot.last_event_id, null);
  return state;
}

/** The state after one event. Events at or below `lastEventId` are already in: ignored. */
export function applyEvent(state, event) {
  if (state.lastEventId !== null && event.id !== undefined && event.id <= state.lastEventId) {
    return state;
  }
  const next = {
    ...state,
    tickets: { ...state.tickets },
    staff: { ...state.staff },
    sla: { ...state.sla },
    alerts: { ...(state.alerts || {}) },
    totals: { ...(state.totals || {}) },
  };
  if (event.id !== undefined) next.lastEventId = event.id;
  const data = event.data || {};
  if (data.alert && String(event.name).startsWith("alert.")) {
    // The alert after the change: open ones stay listed until answered, acknowledged or not.
    const listed = data.alert.id in next.alerts;
    const open = data.alert.state === "open";
    if (open) next.alerts[data.alert.id] = data.alert;
    else delete next.alerts[data.alert.id];
    next.totals.alerts = counted(next.totals.alerts, listed, open);
  }
  const ticket = data.ticket;
  if (ticket && ticket.id !== undefined) {
    const known = next.tickets[ticket.id];
    // Events arrive in order, but a stale copy (lower version) must never overwrite a newer one.
    if (!known || (ticket.version ?? 0) >= (known.version ?? 0)) {
      next.tickets[ticket.id] = { ...known, ...ticket };
    }
    const now = next.tickets[ticket.id];
    const meId = next.me?.id;
    const isMine = (t) => Boolean(t) && OPEN_STATUSES.includes(t.status) && meId !== undefined && t.assignee_id === meId;
    next.totals.queue = counted(next.totals.queue, isOpen(known), isOpen(now));
    next.totals.mine = counted(next.totals.mine, isMine(known), isMine(now));
    if (!OPEN_STATUSES.includes(next.tickets[ticket.id].status)) delete next.sla[ticket.id];
    if (ticket.first_response_at) delete next.sla[ticket.id];
  }
  switch (event.name) {
    case "presence.changed": {
      const member = data.staff;
      const id = member?.id ?? data.staff_id ?? event.actor_id;
      if (id !== undefined && id !== null) {
        const presence = member?.presence ?? data.to ?? data.presence ?? data.status;
        next.staff[id] = { ...next.staff[id], ...member, id, ...(presence ? { presence } : {}) };
        if (presence && next.me && next.me.id === id) next.me = { ...next.me, presence };
      }
      break;
    }
    case "staff.disabled":
      // A disabled account is off every list at once (its sessions ended with it).
      delete next.staff[data.staff_id];
      break;
    case "staff.role_changed":
      if (next.staff[data.staff_id]) next.staff[data.staff_id] = { ...next.staff[data.staff_id], role: data.to };
      break;
    case "duty.started":
    case "duty.ended": {
      // A shift began or ended: the snapshot lists on-duty staff only, so do the same.
      const member = data.staff;
      const id = member?.id ?? data.staff_id;
      if (id !== undefined && id !== null) {
        const onDutyNow = event.name === "duty.started";
        if (onDutyNow) next.staff[id] = { ...next.staff[id], ...member, id, on_duty: true };
        else delete next.staff[id];
        if (next.me && next.me.id === id) next.me = { ...next.me, on_duty: onDutyNow };
      }
      break;
    }
    case "sla.warning":
    case "sla.breached": {
      const id = event.ticket_id ?? ticket?.id;
      const level = event.name === "sla.breached" ? "breached" : "warning";
      if (id !== undefined && id !== null && next.sla[id] !== "breached") next.sla[id] = level;
      break;
    }
    default:
      break;
  }
  return next;
}

/** The rank a ticket has in the queue: its level, its suspected level, or 2 untriaged. */
export function rank(ticket) {
  if (typeof ticket.priority === "number") return ticket.priority;
  if (ticket.acuity) return ticket.acuity;
  if (ticket.suspected_acuity) return Math.min(ticket.suspected_acuity, 2);
  return 2;
}

/**
 * The queue order over the open tickets, the server's (tickets/repository.py `queue_order`):
 * by rank (a suspected KTAS 1 is always first), then red-flagged before not, then the
 * earliest SLA deadline (none last), then untriaged before triaged (nobody has looked at them
 * yet), then the longest waiting.
 */
export function queue(state) {
  return Object.values(state.tickets)
    .filter((t) => OPEN_STATUSES.includes(t.status))
    .sort(compareQueue);
}

/** The queue's comparison of two tickets (see `queue`). */
export function compareQueue(a, b) {
  return (
    rank(a) - rank(b) ||
    flaggedFirst(a) - flaggedFirst(b) ||
    compareDue(a, b) ||
    untriagedFirst(a) - untriagedFirst(b) ||
    Date.parse(a.created_at) - Date.parse(b.created_at) ||
    a.id - b.id
  );
}

function flaggedFirst(ticket) {
  // Managers' tickets say only whether a case is red-flagged, not which flags.
  return (Array.isArray(ticket.red_flags) && ticket.red_flags.length > 0) || ticket.red_flagged ? 0 : 1;
}

function compareDue(a, b) {
  const da = a.sla_due_at ? Date.parse(a.sla_due_at) : null;
  const db = b.sla_due_at ? Date.parse(b.sla_due_at) : null;
  if (da === db) return 0;
  if (da === null) return 1;
  if (db === null) return -1;
  return da - db;
}

/** Alerts for the cover, not a case (`no_doctor_available` for EMTs, `roster_gap` for admins):
 * a doctor's console leaves them out; EMTs and admins see both. */
const COVER_ROLES = new Set(["emt", "admin"]);

/** Whether the signed-in person (`state.me`) is one an alert is for. */
export function alertIsForMe(state, alert) {
  return !(state.me?.role === "doctor" && COVER_ROLES.has(alert.role));
}

/** The open alerts, as `GET /api/v1/alerts` orders them: by level (none last), then oldest;
 * only those for the signed-in person's role. */
export function openAlerts(state) {
  const level = (a) => (typeof a.level === "number" ? a.level : 99);
  return Object.values(state.alerts || {}).filter((a) => alertIsForMe(state, a)).sort(
    (a, b) => level(a) - level(b) || Date.parse(a.raised_at) - Date.parse(b.raised_at) || a.id - b.id,
  );
}

/**
 * The open alerts as the console lists them: one row per case (a KTAS 1 chest pain raises a red
 * flag and a missed first response at once; the EMT at 3 a.m. needs one line and one button),
 * each alert without a case on its own row, in `openAlerts` order (the most urgent first).
 */
export function alertGroups(state) {
  const groups = [];
  const byTicket = new Map();
  for (const alert of openAlerts(state)) {
    const key = alert.ticket_id ?? null;
    let group = key === null ? undefined : byTicket.get(key);
    if (!group) {
      group = { ticketId: key, level: alert.level ?? null, alerts: [] };
      groups.push(group);
      if (key !== null) byTicket.set(key, group);
    }
    group.alerts.push(alert);
  }
  for (const group of groups) {
    group.raisedAt = group.alerts.map((a) => a.raised_at).sort()[0];
    group.acknowledged = group.alerts.every((a) => a.acknowledged_at);
    group.escalated = group.alerts.some((a) => a.escalated_at);
  }
  return groups;
}

/** The open alerts nobody has acknowledged yet: the sound repeats while there is one. */
export function unacknowledged(state) {
  return openAlerts(state).filter((a) => !a.acknowledged_at);
}

/** The console's tabs, as `GET /api/v1/tickets?view=` names them. */
export const VIEWS = ["mine", "unassigned", "waiting", "all_open"];

/** True when an open ticket belongs in the tab `view` for the staff member `meId`. */
export function inView(ticket, view, meId) {
  if (!OPEN_STATUSES.includes(ticket.status)) return false;
  switch (view) {
    case "mine":
      return meId !== null && meId !== undefined && ticket.assignee_id === meId;
    case "unassigned":
      return ticket.assignee_id === null || ticket.assignee_id === undefined;
    case "waiting":
      return ticket.status === "waiting";
    default:
      return true;
  }
}

/** {mine, unassigned, waiting, all_open}: how many open cases each tab holds now. */
export function viewCounts(state, meId) {
  const counts = Object.fromEntries(VIEWS.map((v) => [v, 0]));
  for (const ticket of Object.values(state.tickets)) {
    for (const view of VIEWS) if (inView(ticket, view, meId)) counts[view] += 1;
  }
  return counts;
}

function untriagedFirst(ticket) {
  return ticket.acuity ? 1 : 0;
}

/** On-duty staff, doctors first, then by name. */
export function onDuty(state) {
  const roleOrder = { doctor: 0, emt: 1, admin: 2, manager: 3 };
  return Object.values(state.staff)
    .filter((s) => s.on_duty !== false)
    .sort(
      (a, b) =>
        (roleOrder[a.role] ?? 9) - (roleOrder[b.role] ?? 9) ||
        String(a.name).localeCompare(String(b.name)),
    );
}

/** True when the ticket needs a doctor's eyes now: KTAS 1–2 (set or suspected) or red flags. */
export function isUrgent(ticket) {
  if (!ticket) return false;
  const level = ticket.acuity ?? ticket.suspected_acuity;
  return (level !== null && level !== undefined && level <= 2) || hasRedFlags(ticket);
}

export function hasRedFlags(ticket) {
  return Array.isArray(ticket?.red_flags) && ticket.red_flags.length > 0;
}

/**
 * The alert one event calls for, or null: a new or re-triaged urgent case, a red flag, an SLA
 * breach. `before` is the state the event applies to (so a repeated flag does not ring twice).
 */
export function alertFor(before, event) {
  const ticket = event.data?.ticket;
  if (event.name === "sla.breached") {
    return { kind: "sla_breached", ticketId: event.ticket_id ?? ticket?.id, ticket };
  }
  if (!ticket || !OPEN_STATUSES.includes(ticket.status)) return null;
  const known = before.tickets[ticket.id];
  if (isUrgent(ticket) && (!known || !isUrgent(known))) {
    const kind = hasRedFlags(ticket) ? "red_flag" : "urgent";
    return { kind, ticketId: ticket.id, ticket };
  }
  return null;
}

function isOpen(ticket) {
  return Boolean(ticket) && OPEN_STATUSES.includes(ticket.status);
}

/** A total after one item joined (`after`) or left (`!after`) a list it was (`before`) on. */
function counted(total, before, after) {
  if (typeof total !== "number" || before === after) return total;
  return total + (after ? 1 : -1);
}

function asItems(list) {
  if (!list) return [];
  if (Array.isArray(list)) return list;
  if (Array.isArray(list.items)) return list.items;
  return [];
}

function numberOr(value, fallback) {
  return typeof value === "number" ? value : fallback;
}
