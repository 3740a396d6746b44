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
    "unavailable": "이 보고서를 불러오지 못했습니다: {error}",
    "empty": "이 기간에는 자료가 없습니다.",
    "loading": "불러오는 중…",
    "report.title": "재외국민 119 응급의료상담 실적 {period}",
    "report.about": "기간 {start} – {last} · 비교 {pstart} – {plast} · 시간대 {zone} · 작성 {made}",
    "report.total": "총 상담 {total}건 ({previous} {previousTotal}건, {change})",
    "report.total_first": "총 상담 {total}건",
    "report.no_cases": "{period}에는 상담이 없습니다.",
    "report.no_years": "아직 상담 기록이 없습니다. 기간을 직접 지정할 수 있습니다.",
    "period.invalid": "종료일은 시작일보다 뒤여야 합니다(종료일 미포함).",
    "period.missing": "시작일과 종료일을 모두 입력하세요.",
    "annual.previous_count": "전년 건수",
    "annual.previous_share": "전년 비율",
    "annual.other_countries": "그 밖의 {n}개국",
    "section.channel": "상담 경로별",
    "section.source": "세부 경로별",
    "section.location_type": "환자 위치별 (육상·해상·항공)",
    "section.category": "상담 유형별",
    "section.country": "국가별",
    "section.region": "지역별",
    "section.age_band": "연령대별",
    "section.sex": "성별",
    "column.channel": "경로",
    "column.source": "세부 경로",
    "column.location_type": "위치",
    "column.category": "유형",
    "column.country": "국가",
    "column.region": "지역",
    "column.age_band": "연령대",
    "column.sex": "성별",
    "download.workbook": "전체 XLSX",
    "print": "인쇄·PDF",
    "not_recorded": "기록 없음",
    "sex.female": "여성",
    "sex.male": "남성",
    "sex.other": "기타",
    "sex.unknown": "모름",
    "region.east_asia": "동아시아",
    "region.southeast_asia": "동남아시아",
    "region.south_asia": "남아시아",
    "region.central_asia": "중앙아시아",
    "region.middle_east": "중동",
    "region.europe": "유럽",
    "region.north_america": "북미",
    "region.latin_america": "중남미·카리브",
    "region.africa": "아프리카",
    "region.oceania": "오세아니아",
    "region.other": "기타 지역",
    "age.70+": "70세 이상",
    "age.band": "{band}세",
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
    "unavailable": "This report could not be loaded: {error}",
    "empty": "No data for this period.",
    "loading": "Loading…",
    "report.title": "Emergency medical consultations of Koreans abroad, {period}",
    "report.about": "Period {start} – {last} · compared with {pstart} – {plast} · time zone {zone} · made {made}",
    "report.total": "{total} consultations ({previousTotal} in {previous}, {change})",
    "report.total_first": "{total} consultations",
    "report.no_cases": "No cases in {period}.",
    "report.no_years": "No cases yet. A period can still be chosen by date.",
    "period.invalid": "The end date must be after the start date (the end date is not included).",
    "period.missing": "Enter both a start and an end date.",
    "annual.previous_count": "Previous year",
    "annual.previous_share": "Previous share",
    "annual.other_countries": "{n} other countries",
    "section.channel": "By channel",
    "section.source": "By source",
    "section.location_type": "By the patient's location (land, sea, air)",
    "section.category": "By type of consultation",
    "section.country": "By country",
    "section.region": "By region",
    "section.age_band": "By age band",
    "section.sex": "By sex",
    "column.channel": "Channel",
    "column.source": "Source",
    "column.location_type": "Location",
    "column.category": "Type",
    "column.country": "Country",
    "column.region": "Region",
    "column.age_band": "Age",
    "column.sex": "Sex",
    "download.workbook": "All reports (XLSX)",
    "print": "Print / PDF",
    "not_recorded": "Not recorded",
    "sex.female": "Female",
    "sex.male": "Male",
    "sex.other": "Other",
    "sex.unknown": "Unknown",
    "region.east_asia": "East Asia",
    "region.southeast_asia": "Southeast Asia",
    "region.south_asia": "South Asia",
    "region.central_asia": "Central Asia",
    "region.middle_east": "Middle East",
    "region.europe": "Europe",
    "region.north_america": "North America",
    "region.latin_america": "Latin America and the Caribbean",
    "region.africa": "Africa",
    "region.oceania": "Oceania",
    "region.other": "Elsewhere",
    "age.70+": "70 and over",
    "age.band": "{band}",
  },
});

const REPORTS = "/api/v1/reports";
let token = loadToken();
let lastQuery = null;
const api = new Api({ getToken: () => token, onUnauthorized: () => signOut(), getLocale: () => getLocale() });

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
  years = null;
  clearToken();
  $("#signin").hidden = false;
  $("#reports").hidden = true;
  $("#sign-out").hidden = true;
  replace($("#me"));
  $("#signin-error").textContent = message;
}

async function start() {
  const claims = decodeToken(token) || {};
  if (!["manager", "admin"].includes(claims.role)) {
    signOut(t("signin.forbidden"));
    return;
  }
  $("#signin").hidden = true;
  $("#reports").hidden = false;
  $("#sign-out").hidden = false;
  replace($("#me"), t(`role.${claims.role}`));
  try {
    await fillYears();
  } catch (err) {
    periodError(t("unavailable", { error: describeError(err) }));
    return;
  }
  load();
}

// ---------------------------------------------------------------- period

let years = null; // {years: [{year, total}], default} from the server, once per sign-in

function period() {
  const form = $("#period");
  if (form.mode.value === "range") {
    return { start: form.start.value, end: form.end.value, year: Number(form.start.value.slice(0, 4)), range: true };
  }
  const year = Number(form.year.value);
  return { ...yearPeriod(year), year, range: false };
}

function periodLabel(p) {
  const { start, end } = p;
  const year = Number(start.slice(0, 4));
  if (start === `${year}-01-01` && end === `${year + 1}-01-01`) return getLocale() === "ko" ? `${year}년` : String(year);
  return `${start} – ${dayBefore(end)}`;
}

/** "2025-01-01" → "2024-12-31": periods end exclusive, people read the last day. */
function dayBefore(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

async function fillYears() {
  if (!years) years = await api.get(`${REPORTS}/years`);
  const select = $("#year");
  const chosen = select.value || String(years.default ?? "");
  replace(
    select,
    years.years.map((y) => h("option", { value: String(y.year), selected: String(y.year) === chosen }, String(y.year))),
  );
  if (!years.years.length) {
    $("#period").mode.value = "range";
    $("#no-cases").hidden = false;
    $("#no-cases").textContent = t("report.no_years");
  }
}

/** The one place an error about the period is shown; the figures are cleared with it. */
function periodError(message) {
  $("#period-error").textContent = message;
  $("#figures").hidden = Boolean(message);
}

// ---------------------------------------------------------------- loading

let loading = 0;

async function load(event) {
  event?.preventDefault();
  const p = period();
  if (!p.start || !p.end) {
    periodError(t("period.missing"));
    return;
  }
  if (p.end <= p.start) {
    periodError(t("period.invalid"));
    return;
  }
  const ticket = ++loading;
  const by = document.querySelector("input[name=by]:checked").value;
  lastQuery = { start: p.start, end: p.end, year: p.range ? undefined : p.year };
  const span = p.range ? { start: p.start, end: p.end } : { year: p.year };
  const lang = getLocale();
  // One request first: a period the server refuses is reported once, and nothing else loads.
  let annual;
  try {
    annual = await api.get(`${REPORTS}/annual`, { ...span, lang });
  } catch (err) {
    if (ticket !== loading) return;
    if (err.status === 422) {
      periodError(describeError(err));
      return;
    }
    periodError("");
    replace($("#headline"), h("li", { class: "error" }, t("unavailable", { error: describeError(err) })));
    return;
  }
  if (ticket !== loading) return;
  periodError("");
  renderAnnual(annual);
  const jobs = [
    section(ticket, "#share-table", () => api.get(`${REPORTS}/channel-share`, { start: p.start, end: p.end, by, compare: "previous_year" }), renderShare),
    section(ticket, "#monthly-table", () => api.get(`${REPORTS}/monthly`, { year: p.year, by: "channel" }), renderMonthly),
    section(
      ticket,
      "#times-table",
      () => Promise.all([api.get(`${REPORTS}/response-times`, { start: p.start, end: p.end, by: "acuity" }), api.get(`${REPORTS}/sla`, { start: p.start, end: p.end })]),
      renderTimes,
    ),
  ];
  await Promise.all(jobs);
}

/** Load one report; a failure shows in its own card and never blanks the others. An answer
 * for a period the reader has since left (a newer load began) is dropped. */
async function section(ticket, tableSelector, fetcher, render) {
  const table = $(tableSelector);
  replace(table, h("caption", { class: "muted" }, t("loading")));
  try {
    const body = await fetcher();
    if (ticket === loading) render(body);
  } catch (err) {
    if (ticket !== loading) return;
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

// ---------------------------------------------------------------- the annual report

const SECTION_LABEL = {
  channel: (k) => keyLabel("channel", k),
  source: (k) => keyLabel("source", k),
  location_type: (k) => keyLabel("location", k),
  category: (k) => keyLabel("category", k),
  region: (k) => keyLabel("region", k),
  sex: (k) => keyLabel("sex", k),
  age_band: (k) => (k === "70+" ? t("age.70+") : t("age.band", { band: k })),
};
/** The tables of the printed report; channel and source are in the share card on screen. */
const ON_SCREEN_TOO = new Set(["location_type", "category", "country", "region", "age_band", "sex"]);
const TOP_COUNTRIES = 15;

function countryName(code) {
  try {
    const name = new Intl.DisplayNames([getLocale()], { type: "region" }).of(code);
    return name && name !== code ? name : code;
  } catch {
    return code;
  }
}

function sectionLabel(dimension, key) {
  if (key === "not_recorded") return t("not_recorded");
  if (dimension === "country") return countryName(key);
  return (SECTION_LABEL[dimension] || String)(key);
}

function renderAnnual(report) {
  const locale = getLocale();
  const label = periodLabel(report.period);
  const made = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: report.timezone }).format(new Date());
  document.title = t("report.title", { period: label });
  $("#headline-title").textContent = t("report.title", { period: label });
  $("#report-about").textContent = t("report.about", {
    start: report.period.start,
    last: dayBefore(report.period.end),
    pstart: report.previous.start,
    plast: dayBefore(report.previous.end),
    zone: report.timezone,
    made,
  });
  const total = report.total;
  const empty = !total.count;
  $("#no-cases").hidden = !empty;
  $("#no-cases").textContent = empty ? t("report.no_cases", { period: label }) : "";
  $("#total-line").textContent = empty
    ? ""
    : total.previous_count
      ? t("report.total", {
          total: formatCount(total.count, locale),
          previous: periodLabel(report.previous),
          previousTotal: formatCount(total.previous_count, locale),
          change: `${total.change >= 0 ? "+" : "−"}${formatCount(Math.abs(total.change), locale)}`,
        })
      : t("report.total_first", { total: formatCount(total.count, locale) });
  replace($("#headline"), (report.headline || []).map((sentence) => h("li", {}, sentence)));
  const cards = report.sections.map((s) => annualCard(s, report));
  replace($("#annual"), empty ? [] : cards);
}

function annualCard(sectionReport, report) {
  const locale = getLocale();
  const d = sectionReport.dimension;
  let rows = sectionReport.rows;
  let rest = null;
  if (d === "country" && rows.length > TOP_COUNTRIES + 1) {
    const tail = rows.slice(TOP_COUNTRIES).filter((r) => r.key !== "not_recorded");
    const missing = rows.find((r) => r.key === "not_recorded");
    rows = rows.slice(0, TOP_COUNTRIES).filter((r) => r.key !== "not_recorded");
    rest = { n: tail.length, count: tail.reduce((s, r) => s + r.count, 0), previous: tail.reduce((s, r) => s + r.previous_count, 0) };
    rest.share = report.total.count ? (rest.count * 100) / report.total.count : 0;
    rest.previousShare = report.total.previous_count ? (rest.previous * 100) / report.total.previous_count : 0;
    if (missing) rows = [...rows, missing];
  }
  const id = `${d.replace("_type", "")}-table`;
  const head = [t(`column.${d}`), t("share.count"), t("share.share"), t("annual.previous_count"), t("annual.previous_share"), t("share.change")];
  const line = (key, name, count, share, previousCount, previousShare, change) =>
    h(
      "tr",
      { dataset: { key } },
      h("th", { scope: "row" }, name),
      h("td", { class: "num count" }, formatCount(count, locale)),
      h("td", { class: "num share" }, formatShare(share, locale)),
      h("td", { class: "num previous-count" }, formatCount(previousCount, locale)),
      h("td", { class: "num narrow-hide" }, formatShare(previousShare, locale)),
      h("td", { class: `num change ${change > 0 ? "up" : change < 0 ? "down" : ""}` }, formatChange(change, locale)),
    );
  return h(
    "section",
    { class: `card annual-card ${ON_SCREEN_TOO.has(d) ? "" : "print-only"}`, dataset: { dimension: d } },
    h(
      "header",
      { class: "card-head" },
      h("h2", {}, t(`section.${d}`)),
      h("span", { class: "spacer" }),
      downloadButtons("annual", { section: d }),
    ),
    h(
      "table",
      { id, class: "data" },
      h("thead", {}, h("tr", {}, head.map((v, i) => h("th", { class: i === 0 ? undefined : i === 4 ? "num narrow-hide" : "num" }, v)))),
      h(
        "tbody",
        {},
        rows.map((r) => line(r.key, sectionLabel(d, r.key), r.count, r.share, r.previous_count, r.previous_share, r.change_pp)),
        rest
          ? line("other_countries", t("annual.other_countries", { n: rest.n }), rest.count, rest.share, rest.previous, rest.previousShare, rest.share - rest.previousShare)
          : null,
      ),
      h(
        "tfoot",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "row" }, t("share.total")),
          h("td", { class: "num total" }, formatCount(report.total.count, locale)),
          h("td", { class: "num" }, formatShare(100, locale)),
          h("td", { class: "num" }, formatCount(report.total.previous_count, locale)),
          h("td", { class: "num narrow-hide" }, report.total.previous_count ? formatShare(100, locale) : "—"),
          h("td", {}),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- downloads

/** CSV and XLSX buttons for one report; the file speaks the page's language. */
function downloadButtons(report, extra = {}) {
  return h(
    "span",
    { class: "downloads screen-only" },
    ["csv", "xlsx"].map((format) =>
      h(
        "button",
        { type: "button", class: `download-${format}`, dataset: { i18n: `download.${format}` }, onclick: () => download(report, format, extra) },
        t(`download.${format}`),
      ),
    ),
  );
}

const DOWNLOADS = {
  "channel-share": (q) => ({ path: "channel-share", query: { start: q.start, end: q.end, compare: "previous_year" } }),
  annual: (q) => ({ path: "annual", query: q.year ? { year: q.year } : { start: q.start, end: q.end } }),
  monthly: (q) => ({ path: "monthly", query: { year: q.year ?? Number(q.start.slice(0, 4)) } }),
  sla: (q) => ({ path: "sla", query: { start: q.start, end: q.end } }),
  workbook: (q) => ({ path: "workbook", query: { start: q.start, end: q.end } }),
};

async function download(report, format, extra = {}) {
  if (!lastQuery) return;
  const toast = $("#toast");
  const { path, query } = DOWNLOADS[report](lastQuery);
  const params = { ...query, ...extra, format: report === "workbook" ? undefined : format, lang: getLocale() };
  try {
    const file = await api.download(`${REPORTS}/${path}`, params, `${report}.${format}`);
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

function checkedBy() {
  return document.querySelector("input[name=by]:checked").value;
}

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
  $("#download-csv").addEventListener("click", () => download("channel-share", "csv", { by: checkedBy() }));
  $("#download-xlsx").addEventListener("click", () => download("channel-share", "xlsx", { by: checkedBy() }));
  $("#download-workbook").addEventListener("click", () => download("workbook", "xlsx"));
  $("#print").addEventListener("click", () => window.print());
  for (const slot of document.querySelectorAll(".downloads[data-report]")) {
    slot.replaceWith(downloadButtons(slot.dataset.report));
  }
  applyLocale();
  if (token) start();
  else signOut();
}

init();
