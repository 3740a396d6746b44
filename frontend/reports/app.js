// Manager reports: channel share year over year, monthly volume, response times and SLA
// compliance by KTAS level, land/sea/air and country breakdowns; CSV and XLSX downloads.
// Aggregates only: the API never sends a case's personal data to this page.
import { Api, describeError } from "../shared/api.js";
import { $, h, replace } from "../shared/dom.js";
import "../shared/domain.js";
import { getLocale, initialLocale, onLocaleChange, register, setLocale, t, translatePage } from "../shared/i18n.js";
import { clearToken, decodeToken, loadToken, saveToken } from "../shared/session.js";
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
} from "./model.js";

register({
  ko: {
    "reports.title": "재외국민 119 상담 보고서",
    "signin.title": "관리자 로그인",
    "signin.email": "이메일",
    "signin.password": "비밀번호",
    "signin.submit": "로그인",
    "signin.sign_out": "로그아웃",
    "signin.failed": "이메일 또는 비밀번호가 올바르지 않습니다.",
    "signin.forbidden": "보고서는 관리자만 볼 수 있습니다.",
    "period.title": "기간",
    "period.year": "연도",
    "period.range": "직접 지정",
    "period.end_exclusive": "(종료일 미포함)",
    "period.show": "보기",
    "share.title": "상담 경로별 비율",
    "share.by_channel": "경로",
    "share.by_source": "세부 경로",
    "share.summary": "{period}: 총 {total}건. {top} {count}건({share}), 전년 대비 {change}.",
    "share.key": "경로",
    "share.count": "건수",
    "share.share": "비율",
    "share.previous": "전년 비율",
    "share.previous_count": "전년 건수",
    "share.change": "증감",
    "share.total": "합계",
    "share.current": "선택 기간",
    "share.previous_period": "비교 기간",
    "download.csv": "CSV 내려받기",
    "download.xlsx": "XLSX 내려받기",
    "download.done": "{file} 파일을 내려받았습니다.",
    "monthly.title": "월별 상담 건수",
    "monthly.month": "월",
    "monthly.total": "합계",
    "times.title": "KTAS 단계별 응답 시간과 목표 준수율",
    "times.level": "KTAS",
    "times.target": "목표",
    "times.cases": "건수",
    "times.first_median": "첫 응답 중앙값",
    "times.first_p90": "첫 응답 90%",
    "times.resolution_median": "해결 중앙값",
    "times.met": "준수",
    "times.missed": "초과",
    "times.compliance": "준수율",
    "times.immediate": "즉시",
    "location.title": "위치별 (육상·해상·항공)",
    "country.title": "국가별",
    "breakdown.key": "구분",
    "unavailable": "이 보고서를 불러오지 못했습니다: {error}",
    "empty": "이 기간에는 자료가 없습니다.",
    "loading": "불러오는 중…",
  },
  en: {
    "reports.title": "Consult119 reports",
    "signin.title": "Manager sign-in",
    "signin.email": "E-mail",
    "signin.password": "Password",
    "signin.submit": "Sign in",
    "signin.sign_out": "Sign out",
    "signin.failed": "E-mail address or password is wrong.",
    "signin.forbidden": "Reports are for managers only.",
    "period.title": "Period",
    "period.year": "Year",
    "period.range": "Custom",
    "period.end_exclusive": "(end date not included)",
    "period.show": "Show",
    "share.title": "Consultations by channel",
    "share.by_channel": "Channel",
    "share.by_source": "Source",
    "share.summary": "{period}: {total} consultations. {top} {count} ({share}), {change} on the previous year.",
    "share.key": "Channel",
    "share.count": "Count",
    "share.share": "Share",
    "share.previous": "Previous share",
    "share.previous_count": "Previous count",
    "share.change": "Change",
    "share.total": "Total",
    "share.current": "This period",
    "share.previous_period": "Compared period",
    "download.csv": "Download CSV",
    "download.xlsx": "Download XLSX",
    "download.done": "Downloaded {file}.",
    "monthly.title": "Consultations per month",
    "monthly.month": "Month",
    "monthly.total": "Total",
    "times.title": "Response times and target compliance by KTAS level",
    "times.level": "KTAS",
    "times.target": "Target",
    "times.cases": "Cases",
    "times.first_median": "First response, median",
    "times.first_p90": "First response, p90",
    "times.resolution_median": "Resolution, median",
    "times.met": "Met",
    "times.missed": "Missed",
    "times.compliance": "Compliance",
    "times.immediate": "immediate",
    "location.title": "By location (land, sea, air)",
    "country.title": "By country",
    "breakdown.key": "Group",
    "unavailable": "This report could not be loaded: {error}",
    "empty": "No data for this period.",
    "loading": "Loading…",
  },
});

const REPORTS = "/api/v1/reports";
let token = loadToken();
let lastQuery = null;
const api = new Api({ getToken: () => token, onUnauthorized: () => signOut() });

// ---------------------------------------------------------------- session

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  $("#signin-error").textContent = "";
  try {
    const body = await api.request("POST", "/api/v1/auth/token", {
      form: { username: form.username.value, password: form.password.value },
    });
    token = body.access_token;
    saveToken(token);
    form.reset();
    start();
  } catch (err) {
    $("#signin-error").textContent = err.status === 401 ? t("signin.failed") : describeError(err);
  }
}

function signOut(message = "") {
  token = null;
  clearToken();
  $("#signin").hidden = false;
  $("#reports").hidden = true;
  $("#sign-out").hidden = true;
  replace($("#me"));
  $("#signin-error").textContent = message;
}

function start() {
  const claims = decodeToken(token) || {};
  if (!["manager", "admin"].includes(claims.role)) {
    signOut(t("signin.forbidden"));
    return;
  }
  $("#signin").hidden = true;
  $("#reports").hidden = false;
  $("#sign-out").hidden = false;
  replace($("#me"), t(`role.${claims.role}`));
  load();
}

// ---------------------------------------------------------------- period

function period() {
  const form = $("#period");
  if (form.mode.value === "range") {
    return { start: form.start.value, end: form.end.value, year: Number(form.start.value.slice(0, 4)) };
  }
  const year = Number(form.year.value);
  return { ...yearPeriod(year), year };
}

function periodLabel(p) {
  const { start, end } = p;
  const year = Number(start.slice(0, 4));
  if (start === `${year}-01-01` && end === `${year + 1}-01-01`) return String(year);
  return `${start} – ${end}`;
}

function fillYears() {
  const now = new Date().getFullYear();
  const select = $("#year");
  const chosen = select.value || String(now - 1);
  replace(
    select,
    Array.from({ length: now - 2018 + 1 }, (_, i) => now - i).map((y) =>
      h("option", { value: String(y), selected: String(y) === chosen }, String(y)),
    ),
  );
}

// ---------------------------------------------------------------- loading

async function load(event) {
  event?.preventDefault();
  const p = period();
  $("#period-error").textContent = "";
  if (!p.start || !p.end) return;
  const by = document.querySelector("input[name=by]:checked").value;
  lastQuery = { start: p.start, end: p.end };
  const jobs = [
    section("#share-table", () => api.get(`${REPORTS}/channel-share`, { ...lastQuery, by, compare: "previous_year" }), renderShare),
    section("#monthly-table", () => api.get(`${REPORTS}/monthly`, { year: p.year, by: "channel" }), renderMonthly),
    section(
      "#times-table",
      () => Promise.all([api.get(`${REPORTS}/response-times`, { ...lastQuery, by: "acuity" }), api.get(`${REPORTS}/sla`, lastQuery)]),
      renderTimes,
    ),
    section("#location-table", () => api.get(`${REPORTS}/breakdown`, { ...lastQuery, dimension: "location_type" }), (r) => renderBreakdown("#location-table", r, "location")),
    section("#country-table", () => api.get(`${REPORTS}/breakdown`, { ...lastQuery, dimension: "country" }), (r) => renderBreakdown("#country-table", r, "country")),
  ];
  await Promise.all(jobs);
}

/** Load one report; a failure shows in its own card and never blanks the others. */
async function section(tableSelector, fetcher, render) {
  const table = $(tableSelector);
  replace(table, h("caption", { class: "muted" }, t("loading")));
  try {
    render(await fetcher());
  } catch (err) {
    if (err.status === 422) $("#period-error").textContent = describeError(err);
    replace(table, h("caption", { class: "error" }, t("unavailable", { error: describeError(err) })));
  }
}

// ---------------------------------------------------------------- rendering

function keyLabel(by, key) {
  const label = t(`${by}.${key}`);
  return label === `${by}.${key}` ? key : label;
}

function cells(tag, values, numeric = []) {
  return h("tr", {}, values.map((v, i) => h(tag, { class: numeric.includes(i) ? "num" : undefined }, v)));
}

function renderShare(report) {
  const locale = getLocale();
  const by = report.by || "channel";
  const rows = shareRows(report);
  const hasPrevious = Boolean(report.previous);
  const head = [t("share.key"), t("share.count"), t("share.share")];
  if (hasPrevious) head.push(t("share.previous_count"), t("share.previous"), t("share.change"));
  replace(
    $("#share-table"),
    h("thead", {}, cells("th", head, [1, 2, 3, 4, 5])),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          { dataset: { key: r.key } },
          h("th", { scope: "row" }, keyLabel(by === "source" ? "source" : "channel", r.key)),
          h("td", { class: "num count" }, formatCount(r.count, locale)),
          h("td", { class: "num share" }, formatShare(r.share, locale)),
          hasPrevious ? h("td", { class: "num" }, r.previousCount === null ? "—" : formatCount(r.previousCount, locale)) : null,
          hasPrevious ? h("td", { class: "num" }, formatShare(r.previousShare, locale)) : null,
          hasPrevious
            ? h("td", { class: `num change ${r.change > 0 ? "up" : r.change < 0 ? "down" : ""}` }, formatChange(r.change, locale))
            : null,
        ),
      ),
    ),
    h(
      "tfoot",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "row" }, t("share.total")),
        h("td", { class: "num total" }, formatCount(report.period.total, locale)),
        h("td", { class: "num" }, report.period.total ? formatShare(100, locale) : "—"),
        hasPrevious ? h("td", { class: "num" }, formatCount(report.previous.total, locale)) : null,
        hasPrevious ? h("td", {}) : null,
        hasPrevious ? h("td", {}) : null,
      ),
    ),
  );
  const top = rows[0];
  $("#share-summary").textContent =
    top && report.period.total
      ? t("share.summary", {
          period: periodLabel(report.period),
          total: formatCount(report.period.total, locale),
          top: keyLabel(by === "source" ? "source" : "channel", top.key),
          count: formatCount(top.count, locale),
          share: formatShare(top.share, locale),
          change: formatChange(top.change, locale),
        })
      : t("empty");
  renderShareChart(rows, by, hasPrevious);
}

const SVG = { svg: true };

function svg(tag, attrs, ...children) {
  return h(tag, { ...SVG, ...attrs }, ...children);
}

function renderShareChart(rows, by, hasPrevious) {
  const locale = getLocale();
  const layout = shareBars(rows);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${layout.width} ${layout.height}`, role: "img", "aria-label": t("share.title") },
    layout.labels.map((l) => svg("text", { x: l.x, y: l.y, "text-anchor": "end", "dominant-baseline": "middle" }, keyLabel(by === "source" ? "source" : "channel", l.key))),
    layout.bars.map((b) =>
      svg(
        "g",
        { class: `bar ${b.series}`, "data-key": b.key },
        svg("rect", { class: b.series, x: b.x, y: b.y, width: b.w.toFixed(1), height: b.h }, svg("title", {}, `${b.key}: ${formatShare(b.value, locale)}`)),
        svg("text", { x: (b.x + b.w + 4).toFixed(1), y: b.y + b.h / 2, "dominant-baseline": "middle" }, formatShare(b.value, locale)),
      ),
    ),
  );
  replace(
    $("#share-chart"),
    chart,
    h(
      "figcaption",
      { class: "legend" },
      h("span", {}, h("span", { class: "swatch current" }), t("share.current")),
      hasPrevious ? h("span", {}, h("span", { class: "swatch previous" }), t("share.previous_period")) : null,
    ),
  );
}

function renderMonthly(report) {
  const locale = getLocale();
  const months = normaliseMonths(report.months || report.rows || []);
  const keys = report.keys?.length ? report.keys : [...new Set(months.flatMap((m) => Object.keys(m.counts)))];
  const layout = monthlyBars(months, keys, { width: 720, height: 240 });
  const plotBottom = layout.height - 28;
  replace(
    $("#monthly-chart"),
    svg(
      "svg",
      { viewBox: `0 0 ${layout.width} ${layout.height}`, role: "img", "aria-label": t("monthly.title") },
      svg("line", { class: "axis", x1: 28, x2: layout.width, y1: plotBottom, y2: plotBottom }),
      svg("text", { x: 24, y: 10, "text-anchor": "end" }, formatCount(layout.max, locale)),
      layout.columns.map((c) =>
        svg(
          "g",
          { class: "month", "data-month": c.month },
          c.segments.map((s) =>
            svg("rect", { class: `series-${keys.indexOf(s.series)}`, x: c.x.toFixed(1), y: s.y.toFixed(1), width: c.w.toFixed(1), height: s.h.toFixed(1) }, svg("title", {}, `${c.month} ${keyLabel("channel", s.series)}: ${formatCount(s.value, locale)}`)),
          ),
          svg("text", { x: (c.x + c.w / 2).toFixed(1), y: plotBottom + 14, "text-anchor": "middle" }, c.month.slice(5) || c.month),
        ),
      ),
    ),
    h("figcaption", { class: "legend" }, keys.map((k, i) => h("span", {}, h("span", { class: `swatch series-${i}` }), keyLabel("channel", k)))),
  );
  replace(
    $("#monthly-table"),
    h("thead", {}, cells("th", [t("monthly.month"), ...keys.map((k) => keyLabel("channel", k)), t("monthly.total")], keys.map((_, i) => i + 1).concat(keys.length + 1))),
    h(
      "tbody",
      {},
      months.map((m) =>
        cells(
          "td",
          [m.month, ...keys.map((k) => formatCount(m.counts[k] || 0, locale)), formatCount(keys.reduce((s, k) => s + (m.counts[k] || 0), 0), locale)],
          keys.map((_, i) => i + 1).concat(keys.length + 1),
        ),
      ),
    ),
  );
}

function renderTimes([times, sla]) {
  const locale = getLocale();
  const byLevel = new Map();
  for (const row of sla.rows || []) byLevel.set(row.acuity, { sla: row });
  for (const row of times.first_response || []) if (row.acuity) byLevel.set(row.acuity, { ...byLevel.get(row.acuity), first: row });
  for (const row of times.resolution || []) if (row.acuity) byLevel.set(row.acuity, { ...byLevel.get(row.acuity), resolution: row });
  const levels = [...byLevel.keys()].sort((a, b) => a - b);
  if (!levels.length) {
    replace($("#times-table"), h("caption", { class: "muted" }, t("empty")));
    return;
  }
  const numeric = [1, 2, 3, 4, 5, 6, 7, 8];
  replace(
    $("#times-table"),
    h(
      "thead",
      {},
      cells("th", [t("times.level"), t("times.target"), t("times.cases"), t("times.first_median"), t("times.first_p90"), t("times.resolution_median"), t("times.met"), t("times.missed"), t("times.compliance")], numeric),
    ),
    h(
      "tbody",
      {},
      levels.map((level) => {
        const { sla: s, first, resolution } = byLevel.get(level);
        const target = s?.target_minutes;
        return h(
          "tr",
          { dataset: { acuity: String(level) } },
          h("th", { scope: "row" }, t(`ktas.${level}`)),
          h("td", { class: "num" }, target === 0 ? t("times.immediate") : formatMinutes(target, locale)),
          h("td", { class: "num" }, formatCount(s?.cases ?? first?.cases, locale)),
          h("td", { class: "num" }, formatMinutes(first?.median_minutes, locale)),
          h("td", { class: "num" }, formatMinutes(first?.p90_minutes, locale)),
          h("td", { class: "num" }, formatMinutes(resolution?.median_minutes, locale)),
          h("td", { class: "num" }, formatCount(s?.met, locale)),
          h("td", { class: "num" }, formatCount(s?.missed, locale)),
          h("td", { class: "num compliance" }, formatShare(s?.compliance, locale)),
        );
      }),
    ),
  );
}

function renderBreakdown(selector, report, kind) {
  const locale = getLocale();
  const rows = report.rows || [];
  let names = null;
  if (kind === "country") {
    try {
      names = new Intl.DisplayNames([locale], { type: "region" });
    } catch {
      names = null;
    }
  }
  const label = (key) => {
    if (key === null || key === undefined || key === "") return "—";
    if (kind === "location") return keyLabel("location", key);
    try {
      return names ? `${names.of(key)} (${key})` : key;
    } catch {
      return key;
    }
  };
  if (!rows.length) {
    replace($(selector), h("caption", { class: "muted" }, t("empty")));
    return;
  }
  replace(
    $(selector),
    h("thead", {}, cells("th", [t("breakdown.key"), t("share.count"), t("share.share")], [1, 2])),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          { dataset: { key: String(r.key ?? "") } },
          h("th", { scope: "row" }, label(r.key)),
          h("td", { class: "num count" }, formatCount(r.count, locale)),
          h("td", { class: "num share" }, formatShare(r.share, locale)),
        ),
      ),
    ),
    h("tfoot", {}, cells("th", [t("share.total"), formatCount(report.total, locale), ""], [1, 2])),
  );
}

// ---------------------------------------------------------------- downloads

async function download(format) {
  if (!lastQuery) return;
  const by = document.querySelector("input[name=by]:checked").value;
  const toast = $("#toast");
  try {
    const file = await api.download(
      `${REPORTS}/channel-share`,
      { ...lastQuery, by, compare: "previous_year", format },
      `channel-share-${lastQuery.start}-${lastQuery.end}.${format}`,
    );
    toast.textContent = t("download.done", { file });
    toast.classList.remove("error");
  } catch (err) {
    toast.textContent = t("unavailable", { error: describeError(err) });
    toast.classList.add("error");
  }
  toast.hidden = false;
  setTimeout(() => {
    toast.hidden = true;
  }, 4000);
}

// ---------------------------------------------------------------- wiring

function applyLocale() {
  translatePage();
  const lang = $("#lang");
  lang.textContent = getLocale() === "ko" ? "English" : "한국어";
  lang.lang = getLocale() === "ko" ? "en" : "ko";
  if (token && !$("#reports").hidden) load();
}

function init() {
  setLocale(initialLocale(), { remember: false });
  onLocaleChange(applyLocale);
  fillYears();
  const thisYear = new Date().getFullYear();
  $("#start").value = `${thisYear}-01-01`;
  $("#end").value = new Date().toISOString().slice(0, 10);
  $("#signin").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut());
  $("#lang").addEventListener("click", () => setLocale(getLocale() === "ko" ? "en" : "ko"));
  $("#period").addEventListener("submit", load);
  $("#year").addEventListener("change", () => {
    $("#period").mode.value = "year";
    load();
  });
  for (const radio of document.querySelectorAll("input[name=by]")) radio.addEventListener("change", load);
  $("#download-csv").addEventListener("click", () => download("csv"));
  $("#download-xlsx").addEventListener("click", () => download("xlsx"));
  applyLocale();
  if (token) start();
  else signOut();
}

init();
