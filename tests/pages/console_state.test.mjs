// The console's state logic: snapshot + events = the state a fresh snapshot would show.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  alertFor,
  alertGroups,
  applyEvent,
  applySnapshot,
  emptyState,
  isUrgent,
  onDuty,
  alertIsForMe,
  openAlerts,
  queue,
  unacknowledged,
} from "../../frontend/console/state.js";

const T0 = Date.parse("2024-05-01T00:00:00Z");
const at = (minutes) => new Date(T0 + minutes * 60_000).toISOString();

function ticket(id, fields = {}) {
  return {
    id,
    case_number: `C119-2024-${String(id).padStart(6, "0")}`,
    channel: "chat",
    source: "kakao",
    status: "new",
    priority: 2,
    acuity: null,
    suspected_acuity: null,
    red_flags: null,
    category: null,
    assignee_id: null,
    created_at: at(id),
    sla_due_at: null,
    first_response_at: null,
    version: 1,
    ...fields,
  };
}

const event = (id, name, data, extra = {}) => ({ type: "event", id, name, at: at(id), data, ...extra });

test("the queue follows SPEC's order: untriaged and KTAS 1–2 first, then level, then wait", () => {
  const state = applySnapshot({
    last_event_id: 10,
    queue: [
      ticket(1, { status: "triaged", acuity: 4, priority: 4 }),
      ticket(2, { status: "triaged", acuity: 2, priority: 2 }),
      ticket(3), // untriaged, ranks as 2, waited longer than 4
      ticket(4),
      ticket(5, { status: "triaged", acuity: 1, priority: 1 }),
      ticket(6, { status: "triaged", acuity: 3, priority: 3 }),
      ticket(7, { status: "resolved", acuity: 1, priority: 1 }),
    ],
  });
  assert.deepEqual(
    queue(state).map((t) => t.id),
    [5, 3, 4, 2, 6, 1],
  );
});

test("a red-flag case suspected KTAS 1 jumps ahead of other untriaged cases", () => {
  const state = applySnapshot({
    last_event_id: 1,
    queue: [ticket(1), ticket(2, { suspected_acuity: 1, priority: 1, red_flags: ["chest_pain"] })],
  });
  assert.deepEqual(queue(state).map((t) => t.id), [2, 1]);
});

test("a chest pain arriving 10th of 10 goes above the older untriaged cases without flags", () => {
  // The case: nine untriaged cases without flags, then chest pain (red flag,
  // suspected KTAS 2, same rank as untriaged). Each untriaged clock is 10 min from arrival.
  const older = Array.from({ length: 9 }, (_, i) =>
    ticket(i + 1, { sla_due_at: at(i + 1 + 10) }),
  );
  const chest = ticket(10, {
    suspected_acuity: 2,
    red_flags: ["chest_pain"],
    sla_due_at: at(10 + 10),
  });
  const state = applySnapshot({ last_event_id: 1, queue: [...older, chest] });
  assert.deepEqual(
    queue(state).map((t) => t.id),
    [10, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test("within a rank and flags, the earliest SLA deadline first, then untriaged, then wait", () => {
  const state = applySnapshot({
    last_event_id: 1,
    queue: [
      ticket(1, { status: "triaged", acuity: 3, priority: 3, sla_due_at: at(40) }),
      ticket(2, { status: "triaged", acuity: 3, priority: 3, sla_due_at: at(20) }),
      ticket(3, { status: "triaged", acuity: 3, priority: 3 }), // no deadline: last
      ticket(4, { status: "triaged", acuity: 2, priority: 2, sla_due_at: at(30) }),
      ticket(5, { priority: 2, sla_due_at: at(30) }), // untriaged, same deadline as 4
      ticket(6, { suspected_acuity: 1, priority: 1, red_flags: ["unconscious"], sla_due_at: at(6) }),
      ticket(7, { status: "triaged", acuity: 1, priority: 1, sla_due_at: at(1) }),
    ],
  });
  assert.deepEqual(queue(state).map((t) => t.id), [6, 7, 5, 4, 2, 1, 3]);
});

test("snapshot then events equals the snapshot taken after them", () => {
  const before = applySnapshot({
    last_event_id: 5,
    queue: [ticket(1)],
    staff: [{ id: 7, name: "Dr Kim", role: "doctor", on_duty: true, presence: "available" }],
  });
  const events = [
    event(6, "ticket.created", { ticket: ticket(2) }),
    event(7, "ticket.triaged", { ticket: ticket(1, { status: "triaged", acuity: 3, priority: 3, version: 2 }) }),
    event(8, "ticket.assigned", { ticket: ticket(2, { status: "assigned", assignee_id: 7, version: 2 }) }),
    event(9, "presence.changed", { staff_id: 7, from: "available", to: "busy" }, { actor_id: 7 }),
    event(10, "ticket.status_changed", { ticket: ticket(1, { status: "resolved", acuity: 3, priority: 3, version: 3 }) }),
  ];
  const replayed = events.reduce(applyEvent, before);
  const after = applySnapshot({
    last_event_id: 10,
    queue: [ticket(2, { status: "assigned", assignee_id: 7, version: 2 })],
    staff: [{ id: 7, name: "Dr Kim", role: "doctor", on_duty: true, presence: "busy" }],
  });
  assert.deepEqual(queue(replayed), queue(after));
  assert.deepEqual(replayed.staff, after.staff);
  assert.equal(replayed.lastEventId, 10);
});

test("shifts that begin and end keep the on-duty list equal to a fresh snapshot", () => {
  const kim = { id: 7, email: "kim@example.org", name: "Dr Kim", role: "doctor", on_duty: true, presence: "available" };
  const lee = { id: 8, email: "lee@example.org", name: "Dr Lee", role: "doctor", on_duty: true, presence: "offline" };
  const before = applySnapshot({ last_event_id: 5, queue: [], staff: [kim], me: { ...lee, on_duty: false } });
  const replayed = [
    event(6, "duty.started", { staff_id: 8, staff: lee }),
    event(7, "duty.ended", { staff_id: 7, staff: { ...kim, on_duty: false } }),
  ].reduce(applyEvent, before);
  const after = applySnapshot({ last_event_id: 7, queue: [], staff: [lee], me: lee });
  assert.deepEqual(replayed.staff, after.staff);
  assert.deepEqual(onDuty(replayed).map((s) => s.id), [8]);
  assert.equal(replayed.me.on_duty, true);
});

test("an event already applied (id at or below the last) changes nothing", () => {
  const state = applySnapshot({ last_event_id: 5, queue: [ticket(1)] });
  const replay = event(5, "ticket.status_changed", { ticket: ticket(1, { status: "closed", version: 9 }) });
  assert.equal(applyEvent(state, replay), state);
});

test("a stale copy of a ticket never overwrites a newer one", () => {
  let state = applySnapshot({ last_event_id: 1, queue: [ticket(1, { version: 3, status: "in_progress" })] });
  state = applyEvent(state, event(2, "message.created", { ticket: ticket(1, { version: 2 }) }));
  assert.equal(state.tickets[1].status, "in_progress");
  assert.equal(state.lastEventId, 2);
});

test("events do not mutate the state they apply to", () => {
  const state = applySnapshot({ last_event_id: 1, queue: [ticket(1)] });
  const frozen = JSON.stringify(state);
  applyEvent(state, event(2, "ticket.created", { ticket: ticket(2) }));
  assert.equal(JSON.stringify(state), frozen);
});

test("SLA events mark the ticket until a doctor answers", () => {
  let state = applySnapshot({ last_event_id: 1, queue: [ticket(1, { acuity: 2 })] });
  state = applyEvent(state, event(2, "sla.warning", {}, { ticket_id: 1 }));
  assert.equal(state.sla[1], "warning");
  state = applyEvent(state, event(3, "sla.breached", {}, { ticket_id: 1 }));
  state = applyEvent(state, event(4, "sla.warning", {}, { ticket_id: 1 }));
  assert.equal(state.sla[1], "breached", "a breach is not downgraded");
  state = applyEvent(
    state,
    event(5, "message.created", { ticket: ticket(1, { first_response_at: at(30), version: 2 }) }),
  );
  assert.equal(state.sla[1], undefined);
});

test("alerts: KTAS 1–2, red flags and SLA breaches ring once; routine cases do not", () => {
  const state = emptyState();
  assert.equal(alertFor(state, event(1, "ticket.created", { ticket: ticket(1, { priority: 3 }) })), null);
  assert.equal(
    alertFor(state, event(2, "ticket.created", { ticket: ticket(2, { suspected_acuity: 1, red_flags: ["seizure"] }) })).kind,
    "red_flag",
  );
  const triaged = ticket(3, { status: "triaged", acuity: 2 });
  assert.equal(alertFor(state, event(3, "ticket.triaged", { ticket: triaged })).kind, "urgent");
  const known = applyEvent(state, event(3, "ticket.triaged", { ticket: triaged }));
  assert.equal(alertFor(known, event(4, "message.created", { ticket: { ...triaged, version: 2 } })), null);
  assert.equal(alertFor(state, event(5, "sla.breached", {}, { ticket_id: 9 })).kind, "sla_breached");
  assert.equal(isUrgent(ticket(4, { acuity: 3 })), false);
});

test("snapshot field names: tickets/items and on_duty are read too", () => {
  const state = applySnapshot({
    last_event_id: 3,
    tickets: { items: [ticket(1)] },
    my_cases: [ticket(2, { assignee_id: 5, status: "assigned" })],
    on_duty: [
      { id: 2, name: "EMT Lee", role: "emt" },
      { id: 1, name: "Dr Park", role: "doctor" },
      { id: 3, name: "Off", role: "doctor", on_duty: false },
    ],
  });
  assert.deepEqual(queue(state).map((t) => t.id), [1, 2]);
  assert.deepEqual(onDuty(state).map((s) => s.id), [1, 2]);
});

test("alerts: the snapshot's open alerts, kept by alert events until resolved", () => {
  const alert = (id, fields = {}) => ({
    id,
    kind: "red_flag",
    ticket_id: id,
    level: 2,
    state: "open",
    raised_at: at(id),
    acknowledged_at: null,
    acknowledged_by: null,
    data: {},
    ...fields,
  });
  let state = applySnapshot({ last_event_id: 1, alerts: { items: [alert(1)], total: 1 } });
  state = applyEvent(state, event(2, "alert.raised", { alert: alert(2, { level: 1 }) }));
  assert.deepEqual(openAlerts(state).map((a) => a.id), [2, 1]); // the most urgent first
  state = applyEvent(state, event(3, "alert.acknowledged", { alert: alert(2, { level: 1, acknowledged_at: at(3) }) }));
  assert.deepEqual(openAlerts(state).map((a) => a.id), [2, 1]); // acknowledged stays listed
  assert.deepEqual(unacknowledged(state).map((a) => a.id), [1]);
  state = applyEvent(state, event(4, "alert.resolved", { alert: alert(1, { state: "resolved" }) }));
  assert.deepEqual(openAlerts(state).map((a) => a.id), [2]);
  assert.deepEqual(unacknowledged(state), []);
});

test("totals: the snapshot's counts move as cases open, close and change hands", () => {
  let state = applySnapshot({
    last_event_id: 1,
    me: { id: 7, role: "doctor" },
    queue: { items: [ticket(1)], total: 40 }, // the first rows of 40 open cases
    my_cases: { items: [], total: 3 },
  });
  state = applyEvent(state, event(2, "ticket.created", { ticket: ticket(2) }));
  assert.equal(state.totals.queue, 41);
  state = applyEvent(state, event(3, "ticket.assigned", { ticket: ticket(2, { status: "assigned", assignee_id: 7, version: 2 }) }));
  assert.deepEqual([state.totals.queue, state.totals.mine], [41, 4]);
  state = applyEvent(state, event(4, "ticket.status_changed", { ticket: ticket(2, { status: "resolved", assignee_id: 7, version: 3 }) }));
  assert.deepEqual([state.totals.queue, state.totals.mine], [40, 3]);
  // A case the snapshot did not list, closing, was not counted as listed: the total stays.
  state = applyEvent(state, event(5, "ticket.status_changed", { ticket: ticket(9, { status: "closed" }) }));
  assert.equal(state.totals.queue, 40);
});

test("staff: a disabled account leaves the list, a new role shows, my own presence follows", () => {
  let state = applySnapshot({
    last_event_id: 1,
    me: { id: 1, role: "doctor", presence: "available" },
    staff: [
      { id: 1, name: "Me", role: "doctor", presence: "available" },
      { id: 2, name: "Kim", role: "emt", presence: "available" },
      { id: 3, name: "Lee", role: "doctor", presence: "busy" },
    ],
  });
  state = applyEvent(state, event(2, "staff.disabled", { staff_id: 3 }));
  state = applyEvent(state, event(3, "staff.role_changed", { staff_id: 2, from: "emt", to: "doctor" }));
  state = applyEvent(state, event(4, "presence.changed", { staff_id: 1, from: "available", to: "away" }));
  assert.deepEqual(Object.keys(state.staff).map(Number), [1, 2]);
  assert.equal(state.staff[2].role, "doctor");
  assert.equal(state.me.presence, "away");
});

test("alert groups: one row per case, most urgent first; alerts without a case stand alone", () => {
  const alert = (id, fields = {}) => ({
    id, kind: "red_flag", ticket_id: 1, level: 1, state: "open", raised_at: at(id),
    acknowledged_at: null, acknowledged_by: null, escalated_at: null, data: {}, ...fields,
  });
  const state = applySnapshot({
    last_event_id: 9,
    alerts: {
      items: [
        alert(1),
        alert(2, { kind: "sla_breached", acknowledged_at: at(3) }),
        alert(3, { ticket_id: 2, level: 3 }),
        alert(4, { ticket_id: null, level: null, kind: "roster_gap" }),
        alert(5, { ticket_id: null, level: null, kind: "no_doctor_available", escalated_at: at(6) }),
      ],
      total: 5,
    },
  });
  const groups = alertGroups(state);
  assert.deepEqual(groups.map((g) => g.alerts.map((a) => a.id)), [[1, 2], [3], [4], [5]]);
  assert.equal(groups[0].raisedAt, at(1));
  assert.equal(groups[0].acknowledged, false); // one of its two is not yet acknowledged
  assert.equal(groups[3].escalated, true);
});

test("cover alerts (no doctor, roster gap) are for EMTs and admins, not a doctor's console", () => {
  const alert = (id, role) => ({
    id, kind: role === "emt" ? "no_doctor_available" : "red_flag", ticket_id: null, level: 2,
    role, state: "open", raised_at: "2026-12-02T03:00:00Z", acknowledged_at: null, data: {},
  });
  const items = [alert(1, "emt"), alert(2, "doctor"), alert(3, "admin")];
  for (const [role, ids] of [["doctor", [2]], ["emt", [1, 2, 3]], ["admin", [1, 2, 3]]]) {
    const state = applySnapshot({ last_event_id: 1, me: { id: 9, role }, alerts: { items, total: 3 } });
    assert.deepEqual(openAlerts(state).map((a) => a.id), ids, role);
    assert.deepEqual(unacknowledged(state).map((a) => a.id), ids, role);
    assert.equal(alertIsForMe(state, items[0]), role !== "doctor");
  }
});
