// Canned replies staff insert and then adapt, in both languages.
export const CANNED_REPLIES = [
  {
    id: "ask_details",
    ko: "정확한 상담을 위해 환자의 나이, 증상과 증상이 시작된 시각, 복용 중인 약, 알레르기를 알려주세요.",
    en: "To advise you properly, please tell us the patient's age, the symptoms and when they began, any medicines taken, and any allergies.",
  },
  {
    id: "call_ems",
    ko: "생명이 위급할 수 있습니다. 지금 바로 현지 응급번호로 전화해 구급차를 요청하세요. 통화 후 다시 알려주세요.",
    en: "This may be life-threatening. Call the local emergency number now and ask for an ambulance, then tell us how it goes.",
  },
  {
    id: "go_to_ed",
    ko: "가까운 응급실로 지금 바로 가시기 바랍니다. 이동이 어려우면 현지 응급번호로 전화하세요.",
    en: "Please go to the nearest emergency department now. If you cannot get there, call the local emergency number.",
  },
  {
    id: "photo",
    ko: "상처 부위 사진을 보내주시면 더 정확히 안내드릴 수 있습니다.",
    en: "If you can send a photo of the wound, we can advise you more precisely.",
  },
  {
    id: "medicine_list",
    ko: "가지고 계신 약의 이름(포장 사진도 좋습니다)을 알려주세요.",
    en: "Please tell us the names of the medicines you have with you (a photo of the packets is fine).",
  },
  {
    id: "consular",
    ko: "통역이 필요하시면 외교부 영사콜센터(+82-2-3210-0404)로 연락하실 수 있습니다.",
    en: "If you need an interpreter, the consular call centre can help: +82-2-3210-0404.",
  },
  {
    id: "follow_up",
    ko: "증상이 나아지지 않거나 심해지면 언제든 다시 연락 주세요. 24시간 상담 가능합니다.",
    en: "If the symptoms do not improve or get worse, contact us again at any time; we answer 24 hours a day.",
  },
];

/** The language to answer a case in: English when the traveller wrote in English, else Korean. */
export function replyLanguage(ticket) {
  return String(ticket?.locale || "").toLowerCase().startsWith("en") ? "en" : "ko";
}
