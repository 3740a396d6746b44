// The console's record, timeline, time, tab and refusal logic (no DOM, no network).
import assert from "node:assert/strict";
import { test } from "node:test";

import { setLocale, t } from "../../frontend/shared/i18n.js";
import "../../frontend/shared/domain.js";
import { charCount, refusalText } from "../../frontend/console/messages.js";
import {
  changedValues,
  conflicts,
  displayValue,
  parseText,
  sameValue,
  selfReported,
} from "../../frontend/console/record.js";
import { slaStatus } from "../../frontend/console/sla.js";
import { applySnapshot, inView, viewCounts } from "../../frontend/console/state.js";
import { describeItem, firstLine } from "../../frontend/console/timeline.js";
import { zonedTime } from "../../frontend/console/when.js";

test("a control's text becomes the API's value", () => {
  assert.equal(parseText("patient_age", " 34 "), 34);
  assert.equal(parseText("patient_age", ""), null);
  assert.equal(parseText("country", " jp "), "JP");
  assert.equal(parseText("allergies", "   "), null);
  assert.equal(parseText("plan", "rest\nfluids"), "rest\nfluids");
  assert.ok(sameValue(null, ""));
  assert.ok(sameValue(34, "34"));
  assert.ok(!sameValue(null, "x"));
});

test("a save sends only what the user changed from where they started", () => {
  const base = { patient_age: 30, allergies: null, country: "JP" };
  const body = changedValues(base, { patient_age: "30", allergies: "penicillin", country: "jp" });
  assert.deepEqual(body, { allergies: "penicillin" });
  assert.deepEqual(changedValues(base, { patient_age: "" }), { patient_age: null });
  assert.deepEqual(changedValues(base, { not_a_field: "x" }), {});
});

test("after a stale save: the fields someone else changed, theirs against yours", () => {
  const base = { medication: null, allergies: null, patient_age: 3 };
  const mine = { medication: "aspirin", allergies: "none", patient_age: 4 };
  // medication: they saved another value; allergies: they saved the same; age: untouched.
  const current = { medication: "ibuprofen", allergies: "none", patient_age: 3 };
  assert.deepEqual(conflicts(base, current, mine), [
    { name: "medication", theirs: "ibuprofen", yours: "aspirin" },
  ]);
  // Only the version moved (a message arrived): nothing to show, the save may go again.
  assert.deepEqual(conflicts(base, { medication: null, allergies: null, patient_age: 3 }, mine), []);
});

test("values read as words; self-reported marks only when the detail has them", () => {
  setLocale("en", { remember: false });
  assert.equal(displayValue("patient_sex", "female", t), "female");
  assert.equal(displayValue("location_type", "sea", t), "Sea");
  assert.equal(displayValue("plan", null, t), "—");
  assert.deepEqual([...selfReported({ self_reported: ["patient_age"] })], ["patient_age"]);
  assert.equal(selfReported({}).size, 0);
});

test("times carry their zone", () => {
  assert.equal(zonedTime("2026-12-01T18:54:00Z"), "2026-12-02 03:54 KST");
  assert.equal(zonedTime("2026-12-01T18:54:00Z", "Asia/Tokyo"), "2026-12-02 03:54 JST");
  assert.equal(zonedTime("2026-12-01T15:00:00Z", "Asia/Seoul"), "2026-12-02 00:00 KST");
  assert.equal(zonedTime("2026-12-01T18:54:00Z", "UTC", { date: false }), "18:54 UTC");
  assert.equal(zonedTime("2026-12-01T18:54:00Z", "Not/AZone"), "2026-12-01 18:54 UTC");
  assert.equal(zonedTime(null), "");
});

test("the timeline speaks plainly", () => {
  setLocale("en", { remember: false });
  const emt = { id: 2, name: "EMT Park", role: "emt" };
  const names = (id) => ({ 5: "Dr Kim" })[id] ?? `#${id}`;
  const say = (item) => describeItem(item, t, names);
  assert.deepEqual(say({ name: "ticket.updated", actor: emt, data: { fields: ["allergies", "patient_age"] } }), {
    who: "EMT Park (EMT)",
    what: "Edited the record: Allergies, Age",
  });
  assert.equal(say({ name: "ticket.assigned", actor: emt, data: { assignee_id: 5, reason: "assign" } }).what, "Assigned to Dr Kim");
  assert.equal(say({ name: "ticket.assigned", actor: null, data: { assignee_id: 5, reason: "auto" } }).what, "Assigned automatically to Dr Kim");
  assert.equal(say({ name: "ticket.assigned", actor: emt, data: { assignee_id: null, reason: "release" } }).what, "Returned to the queue");
  assert.equal(
    say({ name: "ticket.status_changed", actor: emt, data: { from: "new", to: "resolved", reason: "handled_by_phone" } }).what,
    "Status: New → Resolved — Handled by phone",
  );
  assert.equal(say({ name: "ticket.triaged", actor: emt, data: { acuity: 2, category: "first_aid" } }).what, "Triaged: KTAS 2 Emergent, First aid");
  const inbound = say({ name: "message.created", actor: null, data: { message: { direction: "inbound", text: "\n 숨이 차요 \nmore" } } });
  assert.deepEqual(inbound, { who: "Traveller", what: "Wrote: 숨이 차요" });
  assert.equal(say({ name: "something.new", actor: null, data: {} }).what, "Other change");
  assert.equal(firstLine("a".repeat(100), 10), `${"a".repeat(9)}…`);
});

test("tabs: which open cases each holds, counted from the live state", () => {
  const tk = (id, status, assignee_id = null) => ({ id, status, assignee_id, created_at: "2026-01-01T00:00:00Z" });
  const state = applySnapshot({
    queue: { items: [tk(1, "new"), tk(2, "assigned", 7), tk(3, "waiting", 7), tk(4, "waiting"), tk(5, "resolved", 7)] },
  });
  assert.deepEqual(viewCounts(state, 7), { mine: 2, unassigned: 2, waiting: 2, all_open: 4 });
  assert.ok(!inView(tk(5, "resolved", 7), "mine", 7));
  assert.ok(!inView(tk(2, "assigned", 7), "mine", null));
});

test("a case closed without a reply is stopped but never answered", () => {
  const now = Date.parse("2026-12-02T00:00:00Z");
  assert.equal(slaStatus({ acuity: 2, first_response_at: null }, now, false).answered, false);
  assert.equal(slaStatus({ acuity: 2, first_response_at: "2026-12-01T23:50:00Z" }, now).answered, true);
});

test("refusals read as sentences in the reader's language, never codes", () => {
  setLocale("ko", { remember: false });
  const err = (code, detail = {}) => ({ code, status: 409, detail: { code, ...detail } });
  assert.match(refusalText(err("no_response")), /답변/);
  assert.doesNotMatch(refusalText(err("no_response")), /no_response/);
  setLocale("en", { remember: false });
  assert.match(refusalText(err("no_response")), /No reply reached the traveller/);
  assert.equal(refusalText(err("some_new_code")), "The request was refused. Please try again shortly.");
  assert.equal(refusalText({ message: "boom" }), "The request was refused. Please try again shortly.");
  assert.equal(
    refusalText(err("invalid_field", { field: "patient_age" }), () => "Age"),
    "A value is not accepted: Age",
  );
  assert.match(refusalText(err("text_too_long", { max_chars: 3000 })), /3,000/);
  assert.equal(charCount("물을 드세요"), 6);
  assert.equal(charCount("🚑a"), 2);
});
