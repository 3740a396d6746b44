// The traveller's web chat: choose a language and country, write, get the case number and the
// local emergency number at once, then the doctor's replies live. Reconnects by itself; nothing
// written is lost (unacknowledged messages are sent again with the same client id).
import { Api, describeError, wsUrl } from "../shared/api.js";
import { backoffDelay } from "../shared/backoff.js";
import { $, h, replace } from "../shared/dom.js";
import { getLocale, initialLocale, onLocaleChange, register, setLocale, t, translatePage } from "../shared/i18n.js";
import {
  COMMON_COUNTRIES,
  COUNTRIES,
  OTHER_COUNTRY,
  PURPOSES,
  addOutgoing,
  applyChatFrame,
  asksCountry,
  browserTimezone,
  caseEnded,
  countryFrame,
  countryFromTimezone,
  emptyTranscript,
  formFieldOf,
  lastReplyId,
  markFailed,
  messageFrame,
  newClientId,
  sessionBody,
  shownEmergencyNumber,
  unacknowledged,
} from "./logic.js";

register({
  ko: {
    "chat.title": "재외국민 119 응급의료상담",
    "chat.danger": "생명이 위급하면 먼저 현지 응급번호로 전화하세요.",
    "chat.intro": "응급의학 전문의와 응급구조사가 24시간 답변합니다. 한국어로 편하게 적어 주세요.",
    "chat.skip": "질문 건너뛰고 바로 상담하기",
    "chat.form_title": "먼저 알려 주시면 도움이 됩니다 (모두 선택 사항)",
    "chat.name": "보내시는 분 이름",
    "chat.age": "환자 나이",
    "chat.country": "지금 계신 나라",
    "chat.common_countries": "자주 선택하는 나라",
    "chat.more_countries": "다른 나라",
    "chat.other_country": "기타 / 목록에 없음",
    "chat.purpose": "체류 목적",
    "chat.purpose.travel": "여행",
    "chat.purpose.residence": "거주",
    "chat.purpose.business": "출장·업무",
    "chat.purpose.study": "유학·연수",
    "chat.purpose.crew": "선원·승무원",
    "chat.purpose.other": "기타",
    "chat.contact": "연락처 (전화 또는 이메일)",
    "chat.contact_example": "예: +81 90 1234 5678",
    "chat.onset": "증상이 시작된 때",
    "chat.onset_example": "예: 오늘 새벽 2시, 3일 전",
    "chat.where": "환자는 지금",
    "chat.where.land": "육상",
    "chat.where.sea": "해상 (선박)",
    "chat.where.air": "항공 (기내)",
    "chat.vessel": "선박 이름 또는 항공편",
    "chat.check_field": "이 항목을 확인해 주세요: {field}. 또는 위의 \"건너뛰기\"를 누르세요.",
    "chat.country_hint": "기기의 시간대({zone})로 추천했습니다. 다르면 바꿔 주세요.",
    "chat.country_unknown": "나라를 선택해 주세요.",
    "chat.choose": "선택하세요",
    "chat.start": "상담 시작",
    "chat.case_number": "상담 번호",
    "chat.local_emergency": "현지 응급번호",
    "chat.message": "메시지",
    "chat.placeholder": "증상을 적어 주세요",
    "chat.send": "보내기",
    "chat.what_to_send": "환자의 나이, 증상과 시작된 시각, 복용한 약을 알려주시면 도움이 됩니다.",
    "chat.me": "나",
    "chat.staff": "의료진",
    "chat.system": "자동 안내",
    "chat.sending": "보내는 중…",
    "chat.sent": "전달됨",
    "chat.status.connecting": "연결 중…",
    "chat.status.connected": "연결됨 — 의료진이 곧 답변합니다.",
    "chat.status.connected_ended": "연결됨",
    "chat.status.reconnecting": "연결이 끊겼습니다. 다시 연결하는 중… 보낸 메시지는 사라지지 않습니다.",
    "chat.session_ended": "상담 연결이 만료되었습니다. 다시 시작해 주세요.",
    "chat.start_failed": "상담을 시작하지 못했습니다: {error}",
    "chat.danger.sea": "해상: 생명이 위급하면 즉시 선장에게 알리세요. 선장은 해안무선국을 통해 무선 의료 자문(Radio Medical)을 받고 후송을 요청할 수 있습니다.",
    "chat.danger.air": "기내: 생명이 위급하면 즉시 승무원에게 알리세요.",
    "chat.camera": "사진 찍기",
    "chat.attach": "사진·파일 보내기",
    "chat.uploading": "올리는 중…",
    "chat.upload_failed": "파일을 보내지 못했습니다: {error}",
    "chat.file": "파일",
    "chat.open_file": "{name} 열기",
    "chat.file_unavailable": "파일을 열 수 없습니다.",
    "chat.ask_country": "지금 어느 나라에 계신가요?",
    "chat.ask_country_ok": "확인",
    "chat.ask_country_why": "그 나라의 응급번호를 알려 드립니다.",
    "chat.case_resolved": "상담 {case}이(가) 완료되었습니다. 다시 도움이 필요하면 여기에 그대로 적어 주세요. 상담이 다시 열리고 의료진이 답변합니다.",
    "chat.case_closed": "상담 {case}이(가) 종료되었습니다. 다시 도움이 필요하면 여기에 적어 주세요. 새 상담으로 접수되어 의료진이 답변합니다.",
  },
  en: {
    "chat.title": "Emergency medical consultation for Koreans abroad",
    "chat.danger": "If life is in danger, call the local emergency number first.",
    "chat.intro": "Emergency doctors and paramedics answer 24 hours a day. Write in Korean or English.",
    "chat.skip": "Skip the questions — write to a doctor now",
    "chat.form_title": "It helps to tell us first (all optional)",
    "chat.name": "Your name",
    "chat.age": "Patient's age",
    "chat.country": "Country you are in now",
    "chat.common_countries": "Often chosen",
    "chat.more_countries": "More countries",
    "chat.other_country": "Other / not listed",
    "chat.purpose": "Purpose of your stay",
    "chat.purpose.travel": "Travel",
    "chat.purpose.residence": "Living there",
    "chat.purpose.business": "Business",
    "chat.purpose.study": "Study",
    "chat.purpose.crew": "Ship or aircraft crew",
    "chat.purpose.other": "Other",
    "chat.contact": "Phone or e-mail",
    "chat.contact_example": "e.g. +81 90 1234 5678",
    "chat.onset": "When the symptoms began",
    "chat.onset_example": "e.g. 2 a.m. today, 3 days ago",
    "chat.where": "The patient is now",
    "chat.where.land": "On land",
    "chat.where.sea": "At sea (ship)",
    "chat.where.air": "In the air (aircraft)",
    "chat.vessel": "Ship's name or flight number",
    "chat.check_field": "Please check: {field}. Or tap \"Skip\" above.",
    "chat.country_hint": "Suggested from your device's time zone ({zone}). Change it if it is wrong.",
    "chat.country_unknown": "Please choose your country.",
    "chat.choose": "Choose",
    "chat.start": "Start consultation",
    "chat.case_number": "Case number",
    "chat.local_emergency": "Local emergency number",
    "chat.message": "Message",
    "chat.placeholder": "Describe the symptoms",
    "chat.send": "Send",
    "chat.what_to_send": "It helps to tell us the patient's age, the symptoms and when they began, and any medicines taken.",
    "chat.me": "Me",
    "chat.staff": "Medical team",
    "chat.system": "Automatic notice",
    "chat.sending": "sending…",
    "chat.sent": "delivered",
    "chat.status.connecting": "Connecting…",
    "chat.status.connected": "Connected — a doctor will answer shortly.",
    "chat.status.connected_ended": "Connected",
    "chat.status.reconnecting": "Connection lost. Reconnecting… nothing you sent is lost.",
    "chat.session_ended": "Your chat session has expired. Please start again.",
    "chat.start_failed": "Could not start the consultation: {error}",
    "chat.danger.sea": "At sea: if life is in danger, tell the ship's master at once. The master can get radio medical advice from a coast radio station and arrange an evacuation.",
    "chat.danger.air": "In the air: if life is in danger, tell the cabin crew at once.",
    "chat.camera": "Take a photo",
    "chat.attach": "Send a photo or file",
    "chat.uploading": "uploading…",
    "chat.upload_failed": "The file could not be sent: {error}",
    "chat.file": "File",
    "chat.open_file": "Open {name}",
    "chat.file_unavailable": "The file cannot be opened.",
    "chat.ask_country": "Which country are you in?",
    "chat.ask_country_ok": "OK",
    "chat.ask_country_why": "We will show you that country's emergency number.",
    "chat.case_resolved": "Your case {case} has been resolved. If you need help again, just write here: the case opens again and the medical team will answer.",
    "chat.case_closed": "Your case {case} has been closed. If you need help again, write here: a new case is opened and the medical team will answer.",
  },
});

const TOKEN_KEY = "consult119.chat-token";
const TRANSCRIPT_KEY = "consult119.chat-transcript";
const CLOSE_BAD_TOKEN = 4401;

const storage = globalThis.sessionStorage;
let token = storage.getItem(TOKEN_KEY);
let transcript = loadTranscript();
let socket = null;
let attempt = 0;
let status = "connecting";
let retryTimer = null;
const api = new Api();
const zone = browserTimezone();

function loadTranscript() {
  try {
    return { ...emptyTranscript(), ...JSON.parse(storage.getItem(TRANSCRIPT_KEY) || "{}") };
  } catch {
    return emptyTranscript();
  }
}

function saveTranscript() {
  storage.setItem(TRANSCRIPT_KEY, JSON.stringify(transcript));
}

// ---------------------------------------------------------------- start

function fillCountries(selected, select = $("#country"), { other = true } = {}) {
  let names = null;
  try {
    names = new Intl.DisplayNames([getLocale()], { type: "region" });
  } catch {
    names = null;
  }
  const label = (code) => {
    try {
      return names?.of(code) || code;
    } catch {
      return code;
    }
  };
  const options = (codes) =>
    codes
      .map((code) => [code, label(code)])
      .sort((a, b) => a[1].localeCompare(b[1], getLocale()))
      .map(([code, name]) => h("option", { value: code, selected: code === selected }, name));
  replace(
    select,
    h("option", { value: "" }, t("chat.choose")),
    h("optgroup", { label: t("chat.common_countries") }, options(COMMON_COUNTRIES)),
    h(
      "optgroup",
      { label: t("chat.more_countries") },
      options(COUNTRIES.filter((code) => !COMMON_COUNTRIES.includes(code))),
    ),
    other ? h("option", { value: OTHER_COUNTRY, selected: selected === OTHER_COUNTRY }, t("chat.other_country")) : null,
  );
}

function fillPurposes() {
  const select = $("#purpose");
  const chosen = select.value;
  replace(
    select,
    h("option", { value: "" }, t("chat.choose")),
    PURPOSES.map((code) => h("option", { value: code, selected: code === chosen }, t(`chat.purpose.${code}`))),
  );
}

function showVessel() {
  const where = $("#start").querySelector("input[name=location_type]:checked")?.value;
  $("#vessel-field").hidden = !(where === "sea" || where === "air");
}

function countryHint() {
  const suggested = countryFromTimezone(zone);
  $("#country-hint").textContent = suggested ? t("chat.country_hint", { zone }) : t("chat.country_unknown");
}

function formValues(form) {
  const values = {};
  for (const name of ["name", "patient_age", "country", "purpose_of_stay", "contact", "symptoms_onset", "vessel_or_flight"]) {
    values[name] = form.elements[name].value;
  }
  values.location_type = form.querySelector("input[name=location_type]:checked")?.value || "";
  return values;
}

function markInvalid(form, name) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const el = name === "location_type" ? form.querySelector("input[name=location_type]") : form.elements[name];
  if (!el) return null;
  el.setAttribute("aria-invalid", "true");
  el.focus();
  return el.closest("label, fieldset")?.querySelector("span, legend")?.textContent || name;
}

// One tap on "skip" starts the chat with nothing asked; the form's answers go with the session
// otherwise (and with the first message from there, on the server).
async function startChat(event, { skip = false } = {}) {
  event.preventDefault();
  const form = $("#start");
  const buttons = form.querySelectorAll("button");
  for (const button of buttons) button.disabled = true;
  $("#start-error").textContent = "";
  const body = sessionBody(formValues(form), { skip, locale: getLocale(), timezone: zone });
  try {
    const session = await api.post("/api/v1/webchat/sessions", body);
    token = session.token;
    storage.setItem(TOKEN_KEY, token);
    transcript = { ...emptyTranscript(), locationType: skip ? null : body.answers?.location_type || null };
    saveTranscript();
    showConversation();
  } catch (err) {
    const field = formFieldOf(err?.detail?.field);
    const label = field && markInvalid(form, field);
    $("#start-error").textContent = label
      ? t("chat.check_field", { field: label })
      : t("chat.start_failed", { error: describeError(err) });
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function showConversation() {
  $("#start").hidden = true;
  $("#conversation").hidden = false;
  render();
  connect();
  $("#text").focus();
}

function showStart(message = "") {
  $("#start").hidden = false;
  $("#conversation").hidden = true;
  $("#start-error").textContent = message;
}

// ---------------------------------------------------------------- the socket

function setStatus(next) {
  status = next;
  const el = $("#status");
  el.dataset.state = next;
  // Once the case is resolved nobody is about to answer: the line no longer promises it.
  const key = next === "connected" && caseEnded(transcript) ? "connected_ended" : next;
  el.textContent = t(`chat.status.${key}`);
}

function connect() {
  clearTimeout(retryTimer);
  if (!token) return;
  setStatus(attempt ? "reconnecting" : "connecting");
  const ws = new WebSocket(wsUrl("/ws/chat"));
  socket = ws;
  ws.onopen = () => {
    const auth = { type: "auth", token };
    const after = lastReplyId(transcript);
    if (after !== null) auth.resume_after = after; // replies up to it are already shown
    ws.send(JSON.stringify(auth));
    for (const entry of unacknowledged(transcript)) {
      if (!entry.uploading) ws.send(JSON.stringify(messageFrame(entry))); // files go when uploaded
    }
    attempt = 0;
    setStatus("connected");
  };
  ws.onmessage = (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    transcript = applyChatFrame(transcript, frame);
    saveTranscript();
    render();
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    if (event.code === CLOSE_BAD_TOKEN) {
      token = null;
      storage.removeItem(TOKEN_KEY);
      showStart(t("chat.session_ended"));
      return;
    }
    setStatus("reconnecting");
    retryTimer = setTimeout(connect, backoffDelay(attempt++));
  };
}

function send(event) {
  event.preventDefault();
  const box = $("#text");
  const text = box.value.trim();
  if (!text) return;
  const clientId = newClientId();
  transcript = addOutgoing(transcript, text, clientId);
  saveTranscript();
  box.value = "";
  render();
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ type: "message", text, client_id: clientId }));
  }
}

/** Photos and files: shown at once from the phone's own copy, uploaded, then sent in a frame
 * (with whatever is typed in the box) once the server has them. */
const previews = new Map(); // client id → object URLs of this page's own copies

async function sendFiles(input) {
  const files = [...input.files];
  input.value = "";
  if (!files.length || !token) return;
  const box = $("#text");
  const text = box.value.trim();
  box.value = "";
  const clientId = newClientId();
  previews.set(clientId, files.map((f) => (f.type.startsWith("image/") ? URL.createObjectURL(f) : null)));
  transcript = addOutgoing(transcript, text, clientId, undefined, []);
  const entry = () => transcript.entries.find((e) => e.clientId === clientId);
  entry().uploading = files.map((f) => f.name);
  render();
  const uploaded = [];
  try {
    for (const file of files) {
      const form = new FormData();
      form.append("file", file, file.name);
      const response = await fetch("/api/v1/webchat/attachments", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Accept-Language": getLocale() },
        body: form,
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw Object.assign(new Error(body?.detail?.message || `HTTP ${response.status}`), { detail: body?.detail });
      uploaded.push({ id: body.id, name: file.name, contentType: body.content_type });
    }
  } catch (err) {
    transcript = markFailed(transcript, clientId, t("chat.upload_failed", { error: err.message }));
    saveTranscript();
    render();
    return;
  }
  transcript = {
    ...transcript,
    entries: transcript.entries.map((e) => (e.clientId === clientId ? { ...e, attachments: uploaded, uploading: undefined } : e)),
  };
  saveTranscript();
  render();
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(messageFrame(entry())));
}

/** Blob URLs of files staff sent, by url: each fetched once per page, with the token. */
const staffBlobs = new Map();

function staffBlob(url) {
  if (!staffBlobs.has(url)) {
    const loading = fetch(url, { headers: { Authorization: `Bearer ${token}` } }).then(async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return URL.createObjectURL(await response.blob());
    });
    loading.catch(() => staffBlobs.delete(url)); // tried again at the next render
    staffBlobs.set(url, loading);
  }
  return staffBlobs.get(url);
}

/** A staff reply's files: a photo shown in the bubble, a PDF as a link to the browser's viewer. */
function staffFiles(entry) {
  if (!entry.files?.length || !token) return null;
  return h(
    "span",
    { class: "files" },
    entry.files.map((file) => {
      const link = h("a", { class: "file", target: "_blank", rel: "noopener", title: t("chat.open_file", { name: file.filename }), dataset: { attachmentId: String(file.id) } });
      if (file.content_type.startsWith("image/")) {
        const img = h("img", { class: "preview", alt: file.filename });
        link.append(img);
        staffBlob(file.url).then(
          (url) => {
            img.src = url;
            link.href = url;
          },
          () => (img.alt = `${file.filename} — ${t("chat.file_unavailable")}`),
        );
      } else {
        link.textContent = `PDF · ${file.filename}`;
        staffBlob(file.url).then(
          (url) => (link.href = url),
          () => (link.textContent = `PDF · ${file.filename} — ${t("chat.file_unavailable")}`),
        );
      }
      return link;
    }),
  );
}

function attachmentsOf(entry) {
  const names = entry.uploading || (entry.attachments || []).map((a) => a.name);
  if (!names.length) return null;
  const urls = previews.get(entry.clientId) || [];
  return h(
    "span",
    { class: "files" },
    names.map((name, i) =>
      urls[i] ? h("img", { class: "preview", src: urls[i], alt: name }) : h("span", { class: "file" }, name),
    ),
  );
}

// ---------------------------------------------------------------- rendering

function timeOf(at) {
  if (!at) return "";
  try {
    return new Intl.DateTimeFormat(getLocale(), { timeStyle: "short" }).format(new Date(at));
  } catch {
    return "";
  }
}

function render() {
  if ($("#conversation").hidden) return;
  const banner = $("#case-banner");
  const number = shownEmergencyNumber(transcript);
  const asking = asksCountry(transcript);
  const ended = caseEnded(transcript);
  if (status === "connected") setStatus(status); // its words depend on whether the case ended
  banner.hidden = !transcript.caseNumber && !number && !asking && !ended;
  $("#case-number").textContent = transcript.caseNumber || "—";
  banner.dataset.caseStatus = transcript.case?.status || ""; // what the server last said
  const emergency = $("#emergency");
  // While the country is unknown no number is shown: the traveller is asked where they are.
  emergency.hidden = !number || asking;
  if (number) {
    const link = $("#emergency-number");
    link.textContent = number;
    link.href = `tel:${number.split(" / ")[0]}`;
  }
  $("#ask-country").hidden = !asking;
  const endedLine = $("#case-ended");
  endedLine.hidden = !ended;
  endedLine.textContent = ended ? t(`chat.case_${ended}`, { case: transcript.caseNumber || "" }) : "";
  const list = $("#messages");
  replace(
    list,
    transcript.entries.map((entry) =>
      h(
        "li",
        { class: `bubble ${entry.from === "me" ? "me" : entry.from === "system" ? "system" : "staff"}`, dataset: { from: entry.from } },
        entry.from === "me" ? null : h("span", { class: "meta" }, t(entry.from === "system" ? "chat.system" : "chat.staff")),
        entry.from === "me" ? attachmentsOf(entry) : staffFiles(entry),
        // Every text is text: textContent only, never HTML.
        entry.text ? h("span", { class: "text" }, entry.text) : null,
        entry.state === "failed" ? h("span", { class: "error", role: "alert" }, entry.error) : null,
        h(
          "span",
          { class: "meta" },
          [timeOf(entry.at), entry.from === "me" ? outgoingState(entry) : ""].filter(Boolean).join(" · "),
        ),
      ),
    ),
  );
  list.scrollTop = list.scrollHeight;
  list.lastElementChild?.scrollIntoView({ block: "end" });
  for (const img of list.querySelectorAll("img.preview")) {
    // A photo preview grows the bubble when it loads: keep the newest message in view.
    img.addEventListener("load", () => (list.scrollTop = list.scrollHeight), { once: true });
  }
  dangerLine();
}

/** The traveller named their country: the server fills the case and answers with its number. */
function answerCountry(event) {
  event.preventDefault();
  const code = $("#ask-country-select").value;
  if (!code || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify(countryFrame(code)));
}

/** At sea or in the air there is no local emergency number to call: say whom to tell. */
function dangerLine() {
  const chosen = $("#start").hidden ? transcript.locationType : $("#start").querySelector("input[name=location_type]:checked")?.value;
  const where = chosen || "land";
  $(".danger-line").textContent = t(where === "land" ? "chat.danger" : `chat.danger.${where}`);
}

function outgoingState(entry) {
  if (entry.uploading) return t("chat.uploading");
  if (entry.state === "failed") return "";
  return t(entry.state === "sent" ? "chat.sent" : "chat.sending");
}

function applyLocale() {
  translatePage();
  for (const button of document.querySelectorAll(".langs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.locale === getLocale()));
  }
  fillCountries($("#country").value || countryFromTimezone(zone));
  fillCountries($("#ask-country-select").value, $("#ask-country-select"), { other: false });
  fillPurposes();
  countryHint();
  setStatus(status);
  render();
}

function init() {
  setLocale(initialLocale(), { remember: false });
  onLocaleChange(applyLocale);
  for (const button of document.querySelectorAll(".langs button")) {
    button.addEventListener("click", () => setLocale(button.dataset.locale));
  }
  $("#start").addEventListener("submit", (event) => startChat(event));
  $("#skip").addEventListener("click", (event) => startChat(event, { skip: true }));
  $("#start").addEventListener("change", () => {
    showVessel();
    dangerLine();
  });
  $("#composer").addEventListener("submit", send);
  $("#ask-country").addEventListener("submit", answerCountry);
  for (const input of document.querySelectorAll("#composer input[type=file]")) {
    input.addEventListener("change", () => sendFiles(input));
  }
  $("#text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });
  window.addEventListener("online", () => {
    if (!socket && token) {
      attempt = 0;
      connect();
    }
  });
  applyLocale();
  if (token) showConversation();
  else showStart();
}

init();
