// The reports page's pure helpers, with the published 2023–2024 figures.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  formatChange,
  formatCount,
  formatMinutes,
  formatShare,
  monthlyBars,
  normaliseMonths,
  shareBars,
  shareRows,
  yearPeriod,
} from "../../frontend/reports/model.js";

const REPORT_2024 = {
  timezone: "Asia/Seoul",
  by: "source",
  period: {
    start: "2024-01-01",
    end: "2025-01-01",
    total: 4901,
    rows: [
      { key: "kakao", count: 3062, share: 62.4770455 },
      { key: "smtp", count: 1338, share: 27.3 },
      { key: "phone", count: 470, share: 9.59 },
      { key: "line", count: 31, share: 0.63 },
    ],
  },
  previous: {
    start: "2023-01-01",
    end: "2024-01-01",
    total: 4135,
    rows: [
      { key: "kakao", count: 2092, share: 50.5925 },
      { key: "smtp", count: 1500, share: 36.28 },
      { key: "webchat", count: 20, share: 0.48 },
    ],
  },
  change_pp: { kakao: 11.8845, smtp: -8.98, phone: 9.59, line: 0.63, webchat: -0.48 },
};

test("a year is [1 January, next 1 January)", () => {
  assert.deepEqual(yearPeriod(2024), { start: "2024-01-01", end: "2025-01-01" });
});

test("share rows join both periods and carry the change in points", () => {
  const rows = shareRows(REPORT_2024);
  assert.deepEqual(rows.map((r) => r.key), ["kakao", "smtp", "phone", "line", "webchat"]);
  const kakao = rows[0];
  assert.equal(kakao.count, 3062);
  assert.equal(kakao.previousCount, 2092);
  assert.equal(formatShare(kakao.share, "en"), "62.5%");
  assert.equal(formatChange(kakao.change, "en"), "+11.9 pp");
  assert.equal(formatChange(kakao.change, "ko"), "+11.9%p");
  const webchat = rows.at(-1);
  assert.equal(webchat.count, 0);
  assert.equal(formatChange(webchat.change, "en"), "−0.5 pp");
  assert.equal(rows.find((r) => r.key === "phone").previousCount, null);
});

test("without change_pp the change is computed from the shares", () => {
  const rows = shareRows({ ...REPORT_2024, change_pp: undefined });
  assert.ok(Math.abs(rows[0].change - 11.8845455) < 1e-6);
});

test("number formats", () => {
  assert.equal(formatCount(4901, "en"), "4,901");
  assert.equal(formatChange(0, "en"), "±0.0 pp");
  assert.equal(formatChange(null, "en"), "—");
  assert.equal(formatMinutes(65, "en"), "1 h 05 min");
  assert.equal(formatMinutes(7.4, "ko"), "7분");
});

test("share bars: one per period and key, widths proportional to the share", () => {
  const layout = shareBars(shareRows(REPORT_2024), { width: 560, labelWidth: 110 });
  const kakao = layout.bars.filter((b) => b.key === "kakao");
  assert.deepEqual(kakao.map((b) => b.series), ["current", "previous"]);
  assert.ok(Math.abs(kakao[0].w / kakao[1].w - 62.4770455 / 50.5925) < 1e-9);
  assert.ok(layout.bars.every((b) => b.x === 110 && b.w <= 560 - 110));
  assert.equal(layout.bars.filter((b) => b.key === "phone").length, 1, "no previous bar for phone");
  assert.ok(layout.height > 0);
});

test("monthly bars stack the series and the tallest month fills the plot", () => {
  const months = normaliseMonths([
    { month: "2024-02", channel: "chat", count: 30 },
    { month: "2024-01", channel: "chat", count: 10 },
    { month: "2024-01", channel: "email", count: 10 },
    { month: "2024-02", channel: "email", count: 10 },
  ]);
  assert.deepEqual(months, [
    { month: "2024-01", counts: { chat: 10, email: 10 } },
    { month: "2024-02", counts: { chat: 30, email: 10 } },
  ]);
  const layout = monthlyBars(months, ["chat", "email"], { height: 228, padding: 28 });
  assert.equal(layout.max, 40);
  const feb = layout.columns[1];
  assert.equal(feb.segments[0].h + feb.segments[1].h, 200);
  assert.equal(feb.segments[1].y, 0);
  assert.equal(layout.columns[0].segments[0].h, 50);
});

test("monthly rows in other shapes", () => {
  assert.deepEqual(normaliseMonths([{ month: "2024-01", chat: 5, email: 2, total: 7 }]), [
    { month: "2024-01", counts: { chat: 5, email: 2 } },
  ]);
  assert.deepEqual(normaliseMonths([{ month: "2024-03", counts: { phone: 1 } }]), [
    { month: "2024-03", counts: { phone: 1 } },
  ]);
});
