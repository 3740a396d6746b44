// The web chat's pure logic.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  COUNTRIES,
  addOutgoing,
  applyChatFrame,
  asksCountry,
  caseEnded,
  caseNumberFrom,
  countryFrame,
  countryFromTimezone,
  emergencyNumberFrom,
  emptyTranscript,
  lastReplyId,
  markFailed,
  messageFrame,
  newClientId,
  shownEmergencyNumber,
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
  const cases = [
    ["Your case C119-2024-000123 is open. If life is in danger, call 119 now (ambulance, Japan; police 110).", "119"],
    ["If life is in danger, call 15 now (ambulance, France) or 112 (general emergency number).", "15 / 112"],
    ["If life is in danger, call 000 now (emergency number, Australia).", "000"],
    ["상담 번호 C119-2024-000001가 접수되었습니다. 생명이 위급하면 지금 바로 911번(미국 긴급번호)으로 전화하세요.", "911"],
    ["생명이 위급하면 지금 바로 119번(대한민국 구급차)으로 전화하세요. 경찰은 112번입니다.", "119"],
    ["Local emergency number in Spain: 112.", "112"],
    ["If life is in danger, call the local emergency number now.", null],
    ["In an emergency, call us on +82-44-320-0119.", null],
    ["Emergency case C119-2025-000042 received.", null],
    ["A doctor will answer in about 10 minutes.", null],
    [
      "Received. Your case number is C119-2026-000004.\nIf life is in danger, call the local emergency number now.\nAn emergency doctor will answer in about 10 minutes.",
      null,
    ],
    [
      "접수되었습니다. 상담 번호는 C119-2026-000001입니다.\n생명이 위급하면 지금 바로 현지 응급번호로 전화하세요.\n응급의학 전문의가 약 15분 안에 답변드립니다.",
      null,
    ],
    [
      "접수되었습니다. 상담 번호는 C119-2026-000001입니다.\n생명이 위급하면 지금 바로 119번(일본 구급차)으로 전화하세요. 경찰은 110번입니다.\n응급의학 전문의가 약 10분 안에 답변드립니다.",
      "119",
    ],
    ["", null],
  ];
  for (const [text, expected] of cases) assert.equal(emergencyNumberFrom(text), expected, text);
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

test("only an ack that opened or reopened the case adds a notice; later ones just mark delivered", () => {
  let tr = addOutgoing(emptyTranscript(), "help", "c1");
  const base = { type: "ack", case_number: "C119-2024-000001", duplicate: false, text: "Received." };
  tr = applyChatFrame(tr, { ...base, client_id: "c1", message_id: 1, created: true, reopened: false });
  tr = addOutgoing(tr, "more", "c2");
  tr = applyChatFrame(tr, { ...base, client_id: "c2", message_id: 2, created: false, reopened: false, text: "Added to your case." });
  assert.deepEqual(tr.entries.filter((e) => e.from === "system").map((e) => e.text), ["Received."]);
  assert.equal(tr.entries.find((e) => e.clientId === "c2").state, "sent");
  tr = addOutgoing(tr, "again", "c3");
  tr = applyChatFrame(tr, { ...base, client_id: "c3", message_id: 3, created: false, reopened: true, text: "Open again." });
  assert.deepEqual(tr.entries.filter((e) => e.from === "system").map((e) => e.text), ["Received.", "Open again."]);
});

test("client ids are unique", () => {
  const ids = new Set(Array.from({ length: 100 }, newClientId));
  assert.equal(ids.size, 100);
});

test("the start form's answers travel with the session; skipping sends none", async () => {
  const { sessionBody, formFieldOf, OTHER_COUNTRY } = await import("../../frontend/chat/logic.js");
  const filled = {
    name: " 김하늘 ",
    patient_age: "34",
    country: "JP",
    purpose_of_stay: "travel",
    contact: "sky@example.org",
    symptoms_onset: "오늘 새벽 2시",
    location_type: "sea",
    vessel_or_flight: "MV Hanbada",
  };
  assert.deepEqual(sessionBody(filled, { locale: "ko", timezone: "Asia/Tokyo" }), {
    locale: "ko",
    timezone: "Asia/Tokyo",
    country: "JP",
    name: "김하늘",
    email: "sky@example.org",
    answers: {
      patient_age: 34,
      purpose_of_stay: "travel",
      symptoms_onset: "오늘 새벽 2시",
      location_type: "sea",
      vessel_or_flight: "MV Hanbada",
    },
  });
  // Skip: only what the page knows itself, never an answer.
  assert.deepEqual(sessionBody(filled, { skip: true, locale: "en" }), { locale: "en", country: "JP" });
  // Blank fields are left out; "other" sends no country; a number is a phone; on land no vessel.
  assert.deepEqual(
    sessionBody({ country: OTHER_COUNTRY, contact: "090-1234-5678", location_type: "land", vessel_or_flight: "x" }),
    { phone: "090-1234-5678", answers: { location_type: "land" } },
  );
  assert.deepEqual(sessionBody({}), { answers: {} });
  // What the server names in a refusal, as the form's field.
  assert.equal(formFieldOf("answers.patient_age"), "patient_age");
  assert.equal(formFieldOf("phone"), "contact");
  assert.equal(formFieldOf("email"), "contact");
  assert.equal(formFieldOf("locale"), null);
});

test("a message with files sends their ids, again with the same client id after a reconnect", () => {
  const files = [{ id: 41, name: "wound.jpg", contentType: "image/jpeg" }];
  let transcript = addOutgoing(emptyTranscript(), "", "c-1", "2026-01-01T00:00:00Z", files);
  const [entry] = unacknowledged(transcript);
  assert.deepEqual(messageFrame(entry), { type: "message", text: "", client_id: "c-1", attachments: [41] });
  transcript = applyChatFrame(transcript, { type: "ack", client_id: "c-1", message_id: 7, case_number: "C119-2026-000001" });
  assert.deepEqual(unacknowledged(transcript), []);
  assert.deepEqual(transcript.entries[0].attachments, files);
  // Without files the frame is as before.
  const plain = addOutgoing(emptyTranscript(), "배가 아파요", "c-2");
  assert.deepEqual(messageFrame(plain.entries[0]), { type: "message", text: "배가 아파요", client_id: "c-2" });
  assert.equal(markFailed(plain, "c-2", "too big").entries[0].state, "failed");
});

const caseFrame = (over = {}) => ({
  type: "case",
  case_number: "C119-2026-000007",
  status: "new",
  country: null,
  location_type: null,
  emergency_number: null,
  emergency: "If life is in danger, call the local emergency number now.",
  ...over,
});

test("a case of unknown country asks for it and shows no number until answered", () => {
  let tr = applyChatFrame(emptyTranscript(), {
    type: "ack",
    client_id: "c1",
    message_id: 1,
    case_number: "C119-2026-000007",
    text: "Received. Your case number is C119-2026-000007.\nIf life is in danger, call the local emergency number now.",
  });
  assert.equal(asksCountry(tr), false); // nothing known yet: the server's case frame decides
  assert.equal(shownEmergencyNumber(tr), null);
  // A staff reply naming a number is not the case's country's number.
  tr = applyChatFrame(tr, caseFrame());
  tr = applyChatFrame(tr, { type: "message", from: "staff", id: 5, text: "If it is an emergency, call 911 now." });
  assert.equal(asksCountry(tr), true);
  assert.equal(shownEmergencyNumber(tr), null);
  assert.deepEqual(countryFrame("JP"), { type: "country", country: "JP" });
  tr = applyChatFrame(tr, caseFrame({ country: "JP", emergency_number: "119" }));
  assert.equal(asksCountry(tr), false);
  assert.equal(shownEmergencyNumber(tr), "119");
  assert.equal(tr.caseNumber, "C119-2026-000007");
});

test("at sea or in the air no country is asked: the master or the crew is told", () => {
  for (const where of ["sea", "air"]) {
    const fromCase = applyChatFrame(emptyTranscript(), caseFrame({ location_type: where }));
    assert.equal(asksCountry(fromCase), false);
    assert.equal(fromCase.locationType, where);
    const fromForm = applyChatFrame({ ...emptyTranscript(), locationType: where }, caseFrame());
    assert.equal(asksCountry(fromForm), false);
  }
  assert.equal(asksCountry(applyChatFrame(emptyTranscript(), caseFrame({ location_type: "land" }))), true);
});

test("the page knows when the case is resolved, closed, or open again", () => {
  let tr = applyChatFrame(emptyTranscript(), caseFrame({ country: "FR", emergency_number: "15" }));
  assert.equal(caseEnded(tr), null);
  tr = applyChatFrame(tr, caseFrame({ country: "FR", emergency_number: "15", status: "resolved" }));
  assert.equal(caseEnded(tr), "resolved");
  tr = applyChatFrame(tr, caseFrame({ country: "FR", emergency_number: "15", status: "closed" }));
  assert.equal(caseEnded(tr), "closed");
  tr = applyChatFrame(tr, caseFrame({ country: "FR", emergency_number: "15", status: "in_progress" }));
  assert.equal(caseEnded(tr), null);
  assert.equal(caseEnded(emptyTranscript()), null);
});
