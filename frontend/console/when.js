// Times as a clinician reads them at 3 a.m.: "2026-12-02 03:54 KST", always with the zone.
// No DOM: tested with `node --test`.

/** Zones whose usual abbreviation Intl does not give in every locale (it says "GMT+9"). */
const ABBREVIATIONS = { "Asia/Seoul": "KST", "Asia/Tokyo": "JST", UTC: "UTC", "Etc/UTC": "UTC" };

/** "2026-12-02 03:54 KST" for an ISO time (or Date) in `timeZone` (Korea time by default). */
export function zonedTime(value, timeZone = "Asia/Seoul", { date = true } = {}) {
  if (value === null || value === undefined || value === "") return "";
  const when = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(when.getTime())) return "";
  let zone = timeZone;
  let parts;
  try {
    parts = partsOf(when, zone);
  } catch {
    zone = "UTC"; // an unknown zone name: say UTC rather than guess
    parts = partsOf(when, zone);
  }
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  const hour = p.hour === "24" ? "00" : p.hour;
  const abbr = ABBREVIATIONS[zone] ?? p.timeZoneName ?? zone;
  const clock = `${hour}:${p.minute} ${abbr}`;
  return date ? `${p.year}-${p.month}-${p.day} ${clock}` : clock;
}

function partsOf(when, timeZone) {
  return new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).formatToParts(when);
}
