// The domain's codes (SPEC.md) and their labels in both languages. Codes travel; labels are
// only for display.
import { register } from "./i18n.js";

/** KTAS levels: target minutes to a doctor (0 = immediate). Colours follow the KTAS chart. */
export const KTAS = {
  1: { target: 0, colour: "blue", ko: "소생", en: "Resuscitation" },
  2: { target: 10, colour: "red", ko: "긴급", en: "Emergent" },
  3: { target: 30, colour: "yellow", ko: "응급", en: "Urgent" },
  4: { target: 60, colour: "green", ko: "준응급", en: "Less urgent" },
  5: { target: 120, colour: "white", ko: "비응급", en: "Non-urgent" },
};

export const OPEN_STATUSES = ["new", "triaged", "assigned", "in_progress", "waiting"];
export const STATUSES = [...OPEN_STATUSES, "resolved", "closed", "merged"];
export const CATEGORIES = [
  "medical_consultation",
  "first_aid",
  "medication",
  "hospital_info",
  "transfer",
  "other",
];
export const DISPOSITIONS = [
  "call_local_ems",
  "go_to_ed_now",
  "see_doctor_soon",
  "self_care",
  "repatriation",
  "referred",
];
export const PRESENCES = ["available", "busy", "away", "offline"];
export const CHANNELS = ["chat", "email", "phone"];

const labels = {
  ko: {
    "status.new": "신규",
    "status.triaged": "분류됨",
    "status.assigned": "배정됨",
    "status.in_progress": "상담 중",
    "status.waiting": "회신 대기",
    "status.resolved": "해결",
    "status.closed": "종료",
    "status.merged": "병합됨",
    "category.medical_consultation": "의료 상담",
    "category.first_aid": "응급처치 지도",
    "category.medication": "복약 지도",
    "category.hospital_info": "병원 안내",
    "category.transfer": "이송·귀국",
    "category.other": "기타",
    "disposition.call_local_ems": "현지 응급번호 신고",
    "disposition.go_to_ed_now": "즉시 응급실 방문",
    "disposition.see_doctor_soon": "24–48시간 내 진료",
    "disposition.self_care": "자가 관리",
    "disposition.repatriation": "국내 이송",
    "disposition.referred": "유관기관 연계",
    "presence.available": "대기 중",
    "presence.busy": "상담 중",
    "presence.away": "자리 비움",
    "presence.offline": "오프라인",
    "channel.chat": "채팅",
    "channel.email": "이메일",
    "channel.phone": "전화",
    "source.kakao": "카카오톡",
    "source.line": "LINE",
    "source.telegram": "텔레그램",
    "source.whatsapp": "WhatsApp",
    "source.webchat": "웹 채팅",
    "source.smtp": "이메일",
    "source.manual": "수기 입력",
    "source.phone": "전화",
    "role.doctor": "의사",
    "role.emt": "응급구조사",
    "role.manager": "관리자",
    "role.admin": "시스템 관리자",
    "location.land": "육상",
    "location.sea": "해상",
    "location.air": "항공",
    "ktas.untriaged": "미분류",
  },
  en: {
    "status.new": "New",
    "status.triaged": "Triaged",
    "status.assigned": "Assigned",
    "status.in_progress": "In progress",
    "status.waiting": "Waiting on traveller",
    "status.resolved": "Resolved",
    "status.closed": "Closed",
    "status.merged": "Merged",
    "category.medical_consultation": "Medical consultation",
    "category.first_aid": "First aid",
    "category.medication": "Medication",
    "category.hospital_info": "Hospital information",
    "category.transfer": "Transfer / repatriation",
    "category.other": "Other",
    "disposition.call_local_ems": "Call local EMS now",
    "disposition.go_to_ed_now": "Go to an ED now",
    "disposition.see_doctor_soon": "See a doctor in 24–48 h",
    "disposition.self_care": "Self-care",
    "disposition.repatriation": "Repatriation",
    "disposition.referred": "Referred",
    "presence.available": "Available",
    "presence.busy": "Busy",
    "presence.away": "Away",
    "presence.offline": "Offline",
    "channel.chat": "Chat",
    "channel.email": "Email",
    "channel.phone": "Phone",
    "source.kakao": "KakaoTalk",
    "source.line": "LINE",
    "source.telegram": "Telegram",
    "source.whatsapp": "WhatsApp",
    "source.webchat": "Web chat",
    "source.smtp": "Email",
    "source.manual": "Manual entry",
    "source.phone": "Phone",
    "role.doctor": "Doctor",
    "role.emt": "EMT",
    "role.manager": "Manager",
    "role.admin": "Admin",
    "location.land": "Land",
    "location.sea": "Sea",
    "location.air": "Air",
    "ktas.untriaged": "Untriaged",
  },
};
for (const [level, info] of Object.entries(KTAS)) {
  labels.ko[`ktas.${level}`] = `KTAS ${level} ${info.ko}`;
  labels.en[`ktas.${level}`] = `KTAS ${level} ${info.en}`;
}
register(labels);
