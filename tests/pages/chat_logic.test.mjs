// The web chat's pure logic.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  COUNTRIES,
  addOutgoing,
  applyChatFrame,
  caseNumberFrom,
  countryFromTimezone,
  emergencyNumberFrom,
  emptyTranscript,
  lastReplyId,
  newClientId,
  unacknowledged,
} from "../../frontend/chat/logic.js";

test("country suggested from the browser's timezone", () => {
  assert.equal(countryFromTimezone("Asia/Tokyo"), "JP");
  assert.equal(countryFromTimezone("America/Los_Angeles"), "US");
  assert.equal(countryFromTimezone("Australia/Sydney"), "AU");
  assert.equal(countryFromTimezone("UTC"), null);
  assert.equal(countryFromTimezone("Mars/Olympus"), null);
  assert.ok(COUNTRIES.includes("JP") && COUNTRIES.includes("KR"));
  assert.equal(COUNTRIES.length, 249);
  assert.ok(COUNTRIES.every((c) => /^[A-Z]{2}$/.test(c)));
});

test("the local emergency number is read from the acknowledgement", () => {
  assert.equal(emergencyNumberFrom("Case C119-2024-000123 is open. Local emergency number in Japan: 119."), "119");
  assert.equal(emergencyNumberFrom("If life is in danger, call the emergency number 000 now."), "000");
  assert.equal(emergencyNumberFrom("France — emergency: 15 (SAMU) or 112."), "15 / 112");
  assert.equal(emergencyNumberFrom("생명이 위급하면 현지 응급번호 911로 전화하세요. 상담 번호 C119-2024-000001"), "911");
  assert.equal(emergencyNumberFrom("If life is in danger, call the local emergency number now."), null);
  assert.equal(emergencyNumberFrom("In an emergency, call us on +82-44-320-0119."), null);
  assert.equal(emergencyNumberFrom("Emergency case C119-2025-000042 received."), null);
  assert.equal(emergencyNumberFrom(""), null);
});

test("case numbers are found in text", () => {
  assert.equal(caseNumberFrom("상담 번호 C119-2024-000123가 접수되었습니다"), "C119-2024-000123");
  assert.equal(caseNumberFrom("no number"), null);
});

test("transcript: sending, acknowledged, staff replies, duplicates ignored", () => {
  let tr = emptyTranscript();
  tr = addOutgoing(tr, "I fell and my ankle is swollen", "c1");
  assert.equal(unacknowledged(tr).length, 1);
  tr = applyChatFrame(tr, { type: "ack", client_id: "c1", message_id: 10, case_number: "C119-2024-000007" });
  assert.equal(tr.caseNumber, "C119-2024-000007");
  assert.equal(tr.entries[0].state, "sent");
  assert.equal(unacknowledged(tr).length, 0);
  tr = applyChatFrame(tr, { type: "message", from: "system", id: "s1", text: "Emergency number in Spain: 112." });
  assert.equal(tr.emergencyNumber, "112");
  tr = applyChatFrame(tr, { type: "message", from: "staff", id: 11, text: "Keep the foot raised." });
  tr = applyChatFrame(tr, { type: "message", from: "staff", id: 11, text: "Keep the foot raised." });
  assert.deepEqual(tr.entries.map((e) => e.from), ["me", "system", "staff"]);
  tr = applyChatFrame(tr, { type: "pong" });
  assert.equal(tr.entries.length, 3);
  assert.equal(lastReplyId(tr), 11);
  assert.equal(lastReplyId(emptyTranscript()), null);
});

test("an ack carrying the reply text shows it once", () => {
  let tr = addOutgoing(emptyTranscript(), "help", "c9");
  const ack = { type: "ack", client_id: "c9", message_id: 5, case_number: "C119-2024-000001", reply: { text: "Local emergency number: 119" } };
  tr = applyChatFrame(applyChatFrame(tr, ack), ack);
  assert.equal(tr.entries.filter((e) => e.from === "system").length, 1);
  assert.equal(tr.emergencyNumber, "119");
});

test("client ids are unique", () => {
  const ids = new Set(Array.from({ length: 100 }, newClientId));
  assert.equal(ids.size, 100);
});
