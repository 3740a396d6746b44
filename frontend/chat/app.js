// The traveller's web chat: choose a language and country, write, get the case number and the
// local emergency number at once, then the doctor's replies live. Reconnects by itself; nothing
// written is lost (unacknowledged messages are sent again with the same client id).
import { Api, describeError, wsUrl } from "../shared/api.js";
import { backoffDelay } from "../shared/backoff.js";
import { $, h, replace } from "../shared/dom.js";
import { getLocale, initialLocale, onLocaleChange, register, setLocale, t, translatePage } from "../shared/i18n.js";
import {
  COUNTRIES,
  addOutgoing,
  applyChatFrame,
  browserTimezone,
  countryFromTimezone,
  emptyTranscript,
  lastReplyId,
  newClientId,
  unacknowledged,
} from "./logic.js";

register({
  ko: {
    "chat.title": "재외국민 119 응급의료상담",
    "chat.danger": "생명이 위급하면 먼저 현지 응급번호로 전화하세요.",
    "chat.intro": "응급의학 전문의와 응급구조사가 24시간 답변합니다. 한국어로 편하게 적어 주세요.",
    "chat.name": "이름 (선택)",
    "chat.country": "지금 계신 나라",
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
    "chat.status.reconnecting": "연결이 끊겼습니다. 다시 연결하는 중… 보낸 메시지는 사라지지 않습니다.",
    "chat.session_ended": "상담 연결이 만료되었습니다. 다시 시작해 주세요.",
    "chat.start_failed": "상담을 시작하지 못했습니다: {error}",
  },
  en: {
    "chat.title": "Emergency medical consultation for Koreans abroad",
    "chat.danger": "If life is in danger, call the local emergency number first.",
    "chat.intro": "Emergency doctors and paramedics answer 24 hours a day. Write in Korean or English.",
    "chat.name": "Name (optional)",
    "chat.country": "Country you are in now",
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
    "chat.status.reconnecting": "Connection lost. Reconnecting… nothing you sent is lost.",
    "chat.session_ended": "Your chat session has expired. Please start again.",
    "chat.start_failed": "Could not start the consultation: {error}",
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

function fillCountries(selected) {
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
  const options = COUNTRIES.map((code) => [code, label(code)]).sort((a, b) => a[1].localeCompare(b[1], getLocale()));
  replace(
    $("#country"),
    h("option", { value: "" }, t("chat.choose")),
    options.map(([code, name]) => h("option", { value: code, selected: code === selected }, name)),
  );
}

function countryHint() {
  const suggested = countryFromTimezone(zone);
  $("#country-hint").textContent = suggested ? t("chat.country_hint", { zone }) : t("chat.country_unknown");
}

async function startChat(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  $("#start-error").textContent = "";
  const body = { locale: getLocale() };
  if (form.name.value.trim()) body.name = form.name.value.trim();
  if (form.country.value) body.country = form.country.value;
  if (zone) body.timezone = zone;
  try {
    const session = await api.post("/api/v1/webchat/sessions", body);
    token = session.token;
    storage.setItem(TOKEN_KEY, token);
    transcript = emptyTranscript();
    saveTranscript();
    showConversation();
  } catch (err) {
    $("#start-error").textContent = t("chat.start_failed", { error: describeError(err) });
  } finally {
    button.disabled = false;
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
  el.textContent = t(`chat.status.${next}`);
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
      ws.send(JSON.stringify({ type: "message", text: entry.text, client_id: entry.clientId }));
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
  banner.hidden = !transcript.caseNumber && !transcript.emergencyNumber;
  $("#case-number").textContent = transcript.caseNumber || "—";
  const emergency = $("#emergency");
  emergency.hidden = !transcript.emergencyNumber;
  if (transcript.emergencyNumber) {
    const link = $("#emergency-number");
    link.textContent = transcript.emergencyNumber;
    link.href = `tel:${transcript.emergencyNumber.split(" / ")[0]}`;
  }
  const list = $("#messages");
  replace(
    list,
    transcript.entries.map((entry) =>
      h(
        "li",
        { class: `bubble ${entry.from === "me" ? "me" : entry.from === "system" ? "system" : "staff"}`, dataset: { from: entry.from } },
        entry.from === "me" ? null : h("span", { class: "meta" }, t(entry.from === "system" ? "chat.system" : "chat.staff")),
        // Every text is text: textContent only, never HTML.
        h("span", { class: "text" }, entry.text),
        h(
          "span",
          { class: "meta" },
          [timeOf(entry.at), entry.from === "me" ? t(entry.state === "sent" ? "chat.sent" : "chat.sending") : ""].filter(Boolean).join(" · "),
        ),
      ),
    ),
  );
  list.scrollTop = list.scrollHeight;
}

function applyLocale() {
  translatePage();
  for (const button of document.querySelectorAll(".langs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.locale === getLocale()));
  }
  fillCountries($("#country").value || countryFromTimezone(zone));
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
  $("#start").addEventListener("submit", startChat);
  $("#composer").addEventListener("submit", send);
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
