// Pure modules shared by the pages: SLA countdown, i18n, backoff, tokens, the console handshake.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatCountdown, formatWaited, slaStatus } from "../../frontend/console/sla.js";
import { authFrame, statusAfter } from "../../frontend/console/connection.js";
import { backoffDelay } from "../../frontend/shared/backoff.js";
import { pickLocale, register, setLocale, t } from "../../frontend/shared/i18n.js";
import { decodeToken, isExpired } from "../../frontend/shared/session.js";
import { queryString } from "../../frontend/shared/api.js";
import "../../frontend/shared/domain.js";

const NOW = Date.parse("2024-05-01T03:00:00Z");
const inMinutes = (m) => new Date(NOW + m * 60_000).toISOString();

test("SLA countdown: ok, warning at 80% of the target, breached, stopped at first response", () => {
  assert.equal(slaStatus({ acuity: 3, sla_due_at: inMinutes(20) }, NOW).state, "ok");
  assert.equal(slaStatus({ acuity: 3, sla_due_at: inMinutes(5) }, NOW).state, "warning");
  assert.equal(slaStatus({ acuity: 2, sla_due_at: inMinutes(3) }, NOW).state, "ok");
  assert.equal(slaStatus({ acuity: 2, sla_due_at: inMinutes(1.5) }, NOW).state, "warning");
  const late = slaStatus({ acuity: 2, sla_due_at: inMinutes(-2) }, NOW);
  assert.equal(late.state, "breached");
  assert.equal(late.remainingMs, -120_000);
  const answered = { acuity: 2, sla_due_at: inMinutes(-2), first_response_at: inMinutes(-3) };
  assert.equal(slaStatus(answered, NOW).state, "stopped");
  assert.equal(slaStatus({ acuity: 2, sla_due_at: inMinutes(5) }, NOW, false).state, "stopped");
  assert.equal(slaStatus({ acuity: null, sla_due_at: null }, NOW).state, "none");
});

test("countdown and waiting time formats", () => {
  assert.equal(formatCountdown(65_000), "1:05");
  assert.equal(formatCountdown(3_723_000), "1:02:03");
  assert.equal(formatCountdown(-190_000), "−3:10");
  assert.equal(formatWaited(125 * 60_000, "en"), "2 h 5 min");
  assert.equal(formatWaited(7 * 60_000, "ko"), "7분");
});

test("i18n: Korean default, English, placeholders, fallbacks", () => {
  register({ ko: { "x.hello": "{name}님 안녕하세요" }, en: { "x.hello": "Hello {name}" } });
  setLocale("ko", { remember: false });
  assert.equal(t("x.hello", { name: "김" }), "김님 안녕하세요");
  setLocale("en-GB", { remember: false });
  assert.equal(t("x.hello", { name: "Kim" }), "Hello Kim");
  assert.equal(t("status.waiting"), "Waiting on traveller");
  assert.equal(t("no.such.key"), "no.such.key");
  register({ ko: { "x.only_ko": "한국어만" } });
  assert.equal(t("x.only_ko"), "한국어만", "a missing English string falls back to Korean");
  assert.equal(pickLocale("fr-FR"), "ko");
  assert.equal(pickLocale("EN"), "en");
  setLocale("ko", { remember: false });
});

test("every domain label exists in both languages", async () => {
  const domain = await import("../../frontend/shared/domain.js");
  const keys = [
    ...domain.STATUSES.map((c) => `status.${c}`),
    ...domain.CATEGORIES.map((c) => `category.${c}`),
    ...domain.DISPOSITIONS.map((c) => `disposition.${c}`),
    ...domain.PRESENCES.map((c) => `presence.${c}`),
    ...Object.keys(domain.KTAS).map((c) => `ktas.${c}`),
  ];
  for (const key of keys) {
    assert.notEqual(t(key, {}, "ko"), key, key);
    assert.notEqual(t(key, {}, "en"), key, key);
    assert.notEqual(t(key, {}, "en"), t(key, {}, "ko"), `${key} is translated`);
  }
});

test("backoff grows, stays under its cap, and is jittered", () => {
  const lo = { random: () => 0 };
  const hi = { random: () => 0.999999 };
  assert.equal(backoffDelay(0, lo), 250);
  assert.equal(backoffDelay(3, lo), 2000);
  assert.ok(backoffDelay(3, hi) <= 4000 && backoffDelay(3, hi) > 3990);
  assert.equal(backoffDelay(50, hi), 15_000);
});

test("tokens: claims decoded, expiry checked", () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const token = (claims) => `${b64({ alg: "HS256" })}.${b64(claims)}.sig`;
  const now = Date.parse("2024-05-01T00:00:00Z");
  const live = token({ sub: "7", role: "doctor", exp: now / 1000 + 60 });
  assert.deepEqual(decodeToken(live).role, "doctor");
  assert.equal(isExpired(live, now), false);
  assert.equal(isExpired(token({ sub: "7", exp: now / 1000 - 1 }), now), true);
  assert.equal(isExpired("garbage", now), true);
});

test("console handshake: resume only with a state; status follows the frames", () => {
  assert.deepEqual(authFrame("tok", null), { type: "auth", token: "tok" });
  assert.deepEqual(authFrame("tok", 0), { type: "auth", token: "tok", resume_after: 0 });
  assert.equal(statusAfter("connecting", { type: "snapshot" }), "connecting");
  assert.equal(statusAfter("connecting", { type: "ready" }), "live");
  assert.equal(statusAfter("reconnecting", { type: "event" }), "reconnecting");
  assert.equal(statusAfter("reconnecting", { type: "snapshot" }), "resyncing");
  assert.equal(statusAfter("live", { type: "resync" }), "resyncing");
  assert.equal(statusAfter("resyncing", { type: "ready" }), "live");
  assert.equal(statusAfter("live", { type: "event" }), "live");
});

test("query strings skip empty values and encode the rest", () => {
  assert.equal(queryString({ a: 1, b: "", c: null, d: "x y" }), "?a=1&d=x+y");
  assert.equal(queryString({}), "");
});
