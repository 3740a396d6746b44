// The web chat's pure logic: the country a browser's timezone suggests, the local emergency
// number read from the acknowledgement, and the transcript built from the frames of /ws/chat.

/** ISO 3166-1 alpha-2 codes; names come from Intl.DisplayNames in the reader's language. */
export const COUNTRIES = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ " +
  "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO " +
  "DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU " +
  "GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW " +
  "KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU " +
  "MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW " +
  "PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF " +
  "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA " +
  "ZM ZW"
).split(" ");

/** Timezones where Koreans abroad most often are, and their country. */
const ZONE_COUNTRY = {
  "Asia/Tokyo": "JP", "Asia/Shanghai": "CN", "Asia/Chongqing": "CN", "Asia/Harbin": "CN",
  "Asia/Urumqi": "CN", "Asia/Hong_Kong": "HK", "Asia/Macau": "MO", "Asia/Taipei": "TW",
  "Asia/Seoul": "KR", "Asia/Pyongyang": "KP", "Asia/Bangkok": "TH", "Asia/Ho_Chi_Minh": "VN",
  "Asia/Saigon": "VN", "Asia/Manila": "PH", "Asia/Singapore": "SG", "Asia/Kuala_Lumpur": "MY",
  "Asia/Jakarta": "ID", "Asia/Makassar": "ID", "Asia/Jayapura": "ID", "Asia/Phnom_Penh": "KH",
  "Asia/Vientiane": "LA", "Asia/Yangon": "MM", "Asia/Rangoon": "MM", "Asia/Kathmandu": "NP",
  "Asia/Kolkata": "IN", "Asia/Calcutta": "IN", "Asia/Colombo": "LK", "Asia/Dhaka": "BD",
  "Asia/Karachi": "PK", "Asia/Tashkent": "UZ", "Asia/Almaty": "KZ", "Asia/Ulaanbaatar": "MN",
  "Asia/Dubai": "AE", "Asia/Qatar": "QA", "Asia/Riyadh": "SA", "Asia/Kuwait": "KW",
  "Asia/Tehran": "IR", "Asia/Jerusalem": "IL", "Asia/Vladivostok": "RU", "Asia/Brunei": "BN",
  "Europe/London": "GB", "Europe/Dublin": "IE", "Europe/Paris": "FR", "Europe/Berlin": "DE",
  "Europe/Rome": "IT", "Europe/Madrid": "ES", "Europe/Lisbon": "PT", "Europe/Amsterdam": "NL",
  "Europe/Brussels": "BE", "Europe/Zurich": "CH", "Europe/Vienna": "AT", "Europe/Prague": "CZ",
  "Europe/Budapest": "HU", "Europe/Warsaw": "PL", "Europe/Athens": "GR", "Europe/Istanbul": "TR",
  "Europe/Moscow": "RU", "Europe/Stockholm": "SE", "Europe/Oslo": "NO", "Europe/Copenhagen": "DK",
  "Europe/Helsinki": "FI", "Europe/Kiev": "UA", "Europe/Kyiv": "UA", "Europe/Bucharest": "RO",
  "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US",
  "America/Phoenix": "US", "America/Los_Angeles": "US", "America/Anchorage": "US",
  "Pacific/Honolulu": "US", "America/Detroit": "US", "Pacific/Guam": "GU", "Pacific/Saipan": "MP",
  "America/Toronto": "CA", "America/Vancouver": "CA", "America/Montreal": "CA",
  "America/Edmonton": "CA", "America/Mexico_City": "MX", "America/Cancun": "MX",
  "America/Sao_Paulo": "BR", "America/Argentina/Buenos_Aires": "AR", "America/Buenos_Aires": "AR",
  "America/Lima": "PE", "America/Bogota": "CO", "America/Santiago": "CL",
  "Australia/Sydney": "AU", "Australia/Melbourne": "AU", "Australia/Brisbane": "AU",
  "Australia/Perth": "AU", "Australia/Adelaide": "AU", "Australia/Darwin": "AU",
  "Australia/Hobart": "AU", "Pacific/Auckland": "NZ", "Pacific/Fiji": "FJ",
  "Africa/Cairo": "EG", "Africa/Johannesburg": "ZA", "Africa/Nairobi": "KE", "Africa/Lagos": "NG",
  "Africa/Casablanca": "MA", "Africa/Addis_Ababa": "ET",
};

/** The country a timezone suggests, or null (UTC, Etc/*, unknown zones). */
export function countryFromTimezone(zone) {
  return ZONE_COUNTRY[zone] ?? null;
}

/** The browser's IANA timezone, or null. */
export function browserTimezone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

const CASE_NUMBER = /C119-\d{4}-\d{6}/;
// A sentence about a life in danger or calling for help.
// (Not "emergency doctor" / "응급의학": the line about who answers names minutes, not numbers.)
const EMERGENCY_SENTENCE = /danger|emergency (number|services)|ambulance|위급|구급|긴급번호|응급번호/i;
// A short number standing alone: not part of a phone number (+82-44-…) or a longer figure.
const SHORT_NUMBER = /(?<![\d+\-:]|\d\.)\d{2,4}(?![\d\-:]|\.\d)/g;
// Numbers for the police or the fire service are not the medical emergency number.
// "10 minutes", "10분": a wait, not a number to call.
const DURATION = /^\s*(min|minute|hour|h\b|분|시간)/i;
const OTHER_SERVICE = /(police|fire|경찰|소방)[^\d]{0,12}$/i;

/** The case number a text mentions, or null. */
export function caseNumberFrom(text) {
  return CASE_NUMBER.exec(String(text || ""))?.[0] ?? null;
}

/**
 * The local emergency number(s) an acknowledgement names, e.g. "119", "15 / 112", or null when
 * it names none. Reads the short numbers of the first sentence about a life in danger,
 * leaving out case numbers, full phone numbers and the police or fire numbers.
 */
export function emergencyNumberFrom(text) {
  const clean = String(text || "").replace(new RegExp(CASE_NUMBER.source, "g"), " ");
  for (const sentence of sentences(clean)) {
    if (!EMERGENCY_SENTENCE.test(sentence)) continue;
    const numbers = [...sentence.matchAll(SHORT_NUMBER)]
      .filter((m) => !OTHER_SERVICE.test(sentence.slice(0, m.index)))
      .filter((m) => !DURATION.test(sentence.slice(m.index + m[0].length)))
      .map((m) => m[0]);
    if (numbers.length) return [...new Set(numbers)].slice(0, 3).join(" / ");
  }
  return null;
}

/** Sentences of `text`; a full stop inside parentheses ("(St. Helena: 911)") ends none. */
function sentences(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (ch === "\n" || (depth === 0 && ".!?。".includes(ch) && /\s/.test(text[i + 1] ?? " "))) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** A client id for one outgoing message (resent with the same id after a reconnect). */
export function newClientId() {
  if (globalThis.crypto?.randomUUID) {
    try {
      return globalThis.crypto.randomUUID();
    } catch {
      /* insecure context: fall through */
    }
  }
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An empty transcript. */
export function emptyTranscript() {
  return { entries: [], caseNumber: null, emergencyNumber: null };
}

/**
 * The transcript after the traveller wrote `text` (shown at once, "sending" until the ack).
 * `attachments`: files uploaded for it, `[{id, name, contentType}]` (their ids go in the frame).
 */
export function addOutgoing(transcript, text, clientId, at = new Date().toISOString(), attachments = []) {
  const entry = { from: "me", text, clientId, state: "sending", at };
  if (attachments.length) entry.attachments = attachments;
  return { ...transcript, entries: [...transcript.entries, entry] };
}

/** The /ws/chat frame that sends an outgoing entry (again, after a reconnect: same client id). */
export function messageFrame(entry) {
  const frame = { type: "message", text: entry.text || "", client_id: entry.clientId };
  if (entry.attachments?.length) frame.attachments = entry.attachments.map((a) => a.id);
  return frame;
}

/** The transcript with the outgoing entry `clientId` marked failed (`error`: what to show). */
export function markFailed(transcript, clientId, error) {
  return {
    ...transcript,
    entries: transcript.entries.map((e) =>
      e.from === "me" && e.clientId === clientId ? { ...e, state: "failed", error } : e,
    ),
  };
}

/** The transcript after one frame from /ws/chat. Frames seen before change nothing. */
export function applyChatFrame(transcript, frame) {
  if (frame.type === "ack") {
    const entries = transcript.entries.map((e) =>
      e.from === "me" && e.clientId === frame.client_id
        ? { ...e, state: "sent", id: frame.message_id }
        : e,
    );
    const next = { ...transcript, entries, caseNumber: frame.case_number || transcript.caseNumber };
    const replyText = frame.reply?.text ?? frame.text;
    // The page already marks each message delivered and keeps the case number and emergency
    // number in view: a plain "added to your case" notice after every message is only noise.
    // Opening or reopening the case is news; a server that does not say (older) is shown.
    const news = frame.created || frame.reopened || frame.created === undefined;
    return replyText && news ? addIncoming(next, { from: "system", text: replyText, id: `ack:${frame.message_id}` }) : next;
  }
  if (frame.type === "message") {
    const from = frame.from || "staff";
    if (from === "me" || from === "traveller" || from === "contact") {
      // The server echoing our own message (e.g. history after a reconnect).
      if (transcript.entries.some((e) => e.from === "me" && (e.clientId === frame.client_id || e.id === frame.id))) {
        return transcript;
      }
      return {
        ...transcript,
        entries: [...transcript.entries, { from: "me", text: frame.text, id: frame.id, clientId: frame.client_id, state: "sent", at: frame.at }],
      };
    }
    const entry = { from, text: frame.text, id: frame.id, at: frame.created_at ?? frame.at };
    // Files staff sent with a reply: fetched from their url with the session's token.
    if (Array.isArray(frame.attachments) && frame.attachments.length) entry.files = frame.attachments;
    return addIncoming(transcript, entry);
  }
  if (frame.type === "case") {
    // Where the case stands, in the server's word: its status, the country and location on
    // record, and the number to call there (null while the country is unknown, at sea, in the air).
    return {
      ...transcript,
      caseNumber: frame.case_number || transcript.caseNumber,
      locationType: frame.location_type || transcript.locationType || null,
      case: {
        status: frame.status ?? null,
        country: frame.country ?? null,
        locationType: frame.location_type ?? null,
        emergencyNumber: frame.emergency_number ?? null,
      },
    };
  }
  return transcript;
}

/** The emergency number to show: the case's, once the server said where the case stands;
 * before that, the one read from the acknowledgement. */
export function shownEmergencyNumber(transcript) {
  return transcript.case ? transcript.case.emergencyNumber : transcript.emergencyNumber;
}

/** Whether to ask "Which country are you in?": the case's country is unknown and the patient
 * is on land (at sea or in the air the ship's master or the cabin crew is the one to tell). */
export function asksCountry(transcript) {
  const c = transcript.case;
  if (!c || c.country) return false;
  const where = c.locationType || transcript.locationType;
  return where !== "sea" && where !== "air";
}

/** "resolved" or "closed" once the team has finished the case; null while it is open. */
export function caseEnded(transcript) {
  const status = transcript.case?.status;
  return status === "resolved" || status === "closed" ? status : null;
}

/** The /ws/chat frame that tells the server where the traveller is. */
export function countryFrame(code) {
  return { type: "country", country: code };
}

function addIncoming(transcript, entry) {
  if (entry.id !== undefined && entry.id !== null && transcript.entries.some((e) => e.from !== "me" && e.id === entry.id)) {
    return transcript;
  }
  return {
    ...transcript,
    entries: [...transcript.entries, entry],
    caseNumber: transcript.caseNumber || caseNumberFrom(entry.text),
    emergencyNumber: emergencyNumberFrom(entry.text) || transcript.emergencyNumber,
  };
}

/** Messages written but not yet acknowledged: sent again after a reconnect. */
export function unacknowledged(transcript) {
  return transcript.entries.filter((e) => e.from === "me" && e.state === "sending");
}

/** The id of the newest staff reply shown, to resume after on reconnect; null before any. */
export function lastReplyId(transcript) {
  const ids = transcript.entries
    .filter((e) => e.from === "staff" && Number.isInteger(e.id))
    .map((e) => e.id);
  return ids.length ? Math.max(...ids) : null;
}

/** Countries most Koreans abroad write from: listed first in the form's country list. */
export const COMMON_COUNTRIES = ["US", "JP", "CN", "VN", "PH", "TH", "AU", "CA", "GB", "DE", "FR", "SG"];
/** The form's "other / not listed" country choice: no country is sent for it. */
export const OTHER_COUNTRY = "other";
export const PURPOSES = ["travel", "residence", "business", "study", "crew", "other"];
export const LOCATIONS = ["land", "sea", "air"];

/**
 * The `POST /api/v1/webchat/sessions` body for the start form's `values` (strings as typed).
 * Skipping sends only what the page knows itself (language, timezone, the suggested country),
 * never an answer: nothing is marked as the traveller's word then. Answering sends `answers`
 * with the fields filled; blank ones are left out. A contact with "@" is an e-mail address,
 * anything else a phone number.
 */
export function sessionBody(values, { skip = false, locale = null, timezone = null } = {}) {
  const body = {};
  if (locale) body.locale = locale;
  if (timezone) body.timezone = timezone;
  const country = (values.country || "").trim();
  if (country && country !== OTHER_COUNTRY) body.country = country;
  if (skip) return body;
  const text = (name) => (values[name] || "").trim();
  if (text("name")) body.name = text("name");
  const contact = text("contact");
  if (contact) body[contact.includes("@") ? "email" : "phone"] = contact;
  const answers = {};
  const age = text("patient_age");
  if (age !== "") answers.patient_age = /^\d{1,3}$/.test(age) ? Number(age) : age;
  for (const name of ["purpose_of_stay", "symptoms_onset", "location_type"]) {
    if (text(name)) answers[name] = text(name);
  }
  if (answers.location_type && answers.location_type !== "land" && text("vessel_or_flight")) {
    answers.vessel_or_flight = text("vessel_or_flight");
  }
  body.answers = answers;
  return body;
}

/** The form field a refusal of `POST /api/v1/webchat/sessions` names, or null. */
export function formFieldOf(field) {
  if (!field) return null;
  if (field === "phone" || field === "email") return "contact";
  const name = String(field).replace(/^answers\./, "");
  return ["name", "country", "patient_age", "purpose_of_stay", "symptoms_onset", "location_type", "vessel_or_flight"].includes(name)
    ? name
    : null;
}
