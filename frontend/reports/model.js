// Pure helpers of the reports page: periods, the channel-share rows with their change, number
// formats, and chart geometry. No DOM: tested with `node --test`.

/** A calendar year as the API's period: `end` is exclusive. */
export function yearPeriod(year) {
  return { start: `${year}-01-01`, end: `${Number(year) + 1}-01-01` };
}

/**
 * The channel-share rows of a report joined with the previous period:
 * [{key, count, share, previousCount, previousShare, change}] by count, largest first.
 * Keys present in only one period appear with 0 in the other.
 */
export function shareRows(report) {
  const current = new Map((report?.period?.rows || []).map((r) => [r.key, r]));
  const previous = new Map((report?.previous?.rows || []).map((r) => [r.key, r]));
  const keys = new Set([...current.keys(), ...previous.keys()]);
  const rows = [...keys].map((key) => {
    const now = current.get(key);
    const before = previous.get(key);
    const change = report?.change_pp?.[key];
    return {
      key,
      count: now?.count ?? 0,
      share: now?.share ?? 0,
      previousCount: before ? before.count : null,
      previousShare: before ? before.share : null,
      change: typeof change === "number" ? change : before ? (now?.share ?? 0) - before.share : null,
    };
  });
  return rows.sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
}

export function formatCount(n, locale) {
  return typeof n === "number" ? new Intl.NumberFormat(locale).format(n) : "—";
}

/** 62.48 → "62.5%" (shares arrive in percent). */
export function formatShare(value, locale) {
  if (typeof value !== "number") return "—";
  return `${new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value)}%`;
}

/** Percentage points with a sign: "+11.9 pp" in English, "+11.9%p" in Korean. */
export function formatChange(value, locale) {
  if (typeof value !== "number") return "—";
  const rounded = Math.round(value * 10) / 10;
  const sign = rounded > 0 ? "+" : rounded < 0 ? "−" : "±";
  const number = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Math.abs(rounded));
  return locale === "ko" ? `${sign}${number}%p` : `${sign}${number} pp`;
}

/** Minutes as "42 min" / "1 h 05 min" (or Korean), for response times. */
export function formatMinutes(value, locale) {
  if (typeof value !== "number") return "—";
  const total = Math.round(value);
  const h = Math.floor(total / 60);
  const m = total % 60;
  if (locale === "ko") return h ? `${h}시간 ${m}분` : `${m}분`;
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min`;
}

/**
 * Horizontal grouped bars (this period and the previous one) for share rows, in a `width` ×
 * auto-height box. Returns {width, height, bars, labels}; every bar is {x, y, w, h, series, key,
 * value}. Shares are on a 0–100 scale so periods compare at a glance.
 */
export function shareBars(rows, { width = 560, labelWidth = 110, bar = 14, gap = 4, groupGap = 14 } = {}) {
  const plot = width - labelWidth - 60;
  const bars = [];
  const labels = [];
  let y = 8;
  for (const row of rows) {
    labels.push({ key: row.key, x: labelWidth - 8, y: y + bar + gap / 2 });
    const series = [["current", row.share], ["previous", row.previousShare]];
    for (const [name, value] of series) {
      if (typeof value === "number") {
        bars.push({ key: row.key, series: name, value, x: labelWidth, y, w: Math.max(1, (plot * value) / 100), h: bar });
      }
      y += bar + gap;
    }
    y += groupGap;
  }
  return { width, height: y, bars, labels };
}

/**
 * Stacked monthly bars: `months` = [{month: "2024-01", counts: {chat: 3, …}}], series in the
 * order given. Returns {width, height, max, columns: [{month, x, w, segments: [{series, y, h,
 * value}]}]} with y measured from the top of a plot of `height` px.
 */
export function monthlyBars(months, series, { width = 640, height = 220, padding = 28 } = {}) {
  const totals = months.map((m) => series.reduce((sum, s) => sum + (m.counts[s] || 0), 0));
  const max = Math.max(1, ...totals);
  const plotHeight = height - padding;
  const slot = (width - padding) / Math.max(1, months.length);
  const w = Math.max(2, slot * 0.7);
  const columns = months.map((m, i) => {
    let top = plotHeight;
    const segments = series.map((s) => {
      const value = m.counts[s] || 0;
      const h = (plotHeight * value) / max;
      top -= h;
      return { series: s, value, y: top, h };
    });
    return { month: m.month, total: totals[i], x: padding + i * slot + (slot - w) / 2, w, segments };
  });
  return { width, height, max, columns };
}

/**
 * Monthly rows from the API in whichever shape it answers — [{month, channel, count}] or
 * [{month, counts: {...}}] or [{month, chat: n, email: n, ...}] — as [{month, counts}] in order.
 */
export function normaliseMonths(rows) {
  const byMonth = new Map();
  for (const row of rows || []) {
    const month = String(row.month ?? row.period ?? row.key ?? "");
    const counts = byMonth.get(month) || {};
    if (row.counts && typeof row.counts === "object") Object.assign(counts, row.counts);
    else if (row.channel !== undefined || row.source !== undefined) {
      const key = row.channel ?? row.source;
      counts[key] = (counts[key] || 0) + (row.count ?? 0);
    } else {
      for (const [k, v] of Object.entries(row)) if (typeof v === "number" && k !== "total") counts[k] = v;
    }
    byMonth.set(month, counts);
  }
  return [...byMonth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, counts]) => ({ month, counts }));
}
