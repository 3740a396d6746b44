// The case record as a form: which fields it has, how a control's text becomes the value the
// API takes, what changed, and — after a 409 stale_version — what the other person changed.
// No DOM, no network: tested with `node --test`.

export const SEXES = ["female", "male", "other", "unknown"];
export const LOCATIONS = ["land", "sea", "air"];

/**
 * The fields PATCH /api/v1/tickets/{id} edits, in the form's order. `kind`: number, choice,
 * text (one line) or area (several lines); `max`: the API's limit (characters, or the age);
 * `wide`: the field takes the form's whole width.
 */
export const RECORD_FIELDS = [
  { name: "patient_age", kind: "number", min: 0, max: 130, label: "case.age" },
  { name: "patient_sex", kind: "choice", choices: SEXES, prefix: "sex.", label: "case.sex" },
  { name: "symptoms_onset", kind: "text", max: 200, label: "case.onset" },
  { name: "conditions", wide: true, kind: "area", max: 2000, label: "case.conditions" },
  { name: "medication", wide: true, kind: "area", max: 2000, label: "case.medication" },
  { name: "allergies", wide: true, kind: "area", max: 2000, label: "case.allergies" },
  { name: "country", kind: "text", max: 2, label: "case.country", hint: "record.country_hint" },
  { name: "timezone", kind: "text", max: 64, label: "case.timezone", hint: "record.timezone_hint" },
  { name: "location_type", kind: "choice", choices: LOCATIONS, prefix: "location.", label: "case.location" },
  { name: "vessel_or_flight", kind: "text", max: 100, label: "case.vessel" },
  { name: "chief_complaint", wide: true, kind: "text", max: 500, label: "case.chief_complaint" },
  { name: "assessment", wide: true, kind: "area", max: 5000, label: "case.assessment" },
  { name: "plan", wide: true, kind: "area", max: 5000, label: "case.plan" },
];

const BY_NAME = Object.fromEntries(RECORD_FIELDS.map((f) => [f.name, f]));

export function recordField(name) {
  return BY_NAME[name];
}

/** The text a control shows for a stored value ("" for none). */
export function formText(name, value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

/** The value the API takes for a control's text: null when blank, a number for the age. */
export function parseText(name, text) {
  const field = BY_NAME[name];
  const raw = String(text ?? "");
  if (!raw.trim()) return null;
  if (field?.kind === "number") {
    const n = Number(raw.trim());
    return Number.isFinite(n) ? n : raw.trim();
  }
  if (name === "country") return raw.trim().toUpperCase();
  if (name === "timezone") return raw.trim();
  return raw;
}

/** Two record values are the same when both are empty or they read alike. */
export function sameValue(a, b) {
  const empty = (v) => v === null || v === undefined || (typeof v === "string" && !v.trim());
  if (empty(a) && empty(b)) return true;
  if (empty(a) || empty(b)) return false;
  return String(a) === String(b);
}

/**
 * What a save sends: for each edited control (`input`: name → text), its value when it differs
 * from `base` (name → the value the user started from).
 */
export function changedValues(base, input) {
  const out = {};
  for (const [name, text] of Object.entries(input)) {
    if (!BY_NAME[name]) continue;
    const value = parseText(name, text);
    if (!sameValue(value, base[name])) out[name] = value;
  }
  return out;
}

/**
 * After 409 stale_version: the fields where someone else saved a value (`current`, from the
 * refusal) other than the one the user started from (`base`) and other than the user's own
 * (`mine`: name → value). [{name, theirs, yours}]; empty when the save only missed a version.
 */
export function conflicts(base, current, mine) {
  const out = [];
  for (const [name, theirs] of Object.entries(current || {})) {
    if (!(name in mine)) continue;
    if (sameValue(theirs, base[name])) continue;
    if (sameValue(theirs, mine[name])) continue;
    out.push({ name, theirs, yours: mine[name] });
  }
  return out;
}

/** A value as a person reads it: the label for a code, "—" for none. */
export function displayValue(name, value, t) {
  if (value === null || value === undefined || value === "") return t("case.none");
  const field = BY_NAME[name];
  if (field?.kind === "choice") {
    const label = t(`${field.prefix}${value}`);
    return label === `${field.prefix}${value}` ? String(value) : label;
  }
  return String(value);
}

/** The names the detail marks as filled in by the traveller (`self_reported`), as a Set. */
export function selfReported(detail) {
  return new Set(Array.isArray(detail?.self_reported) ? detail.self_reported : []);
}
