"""The canned replies a new database starts with (migration 0008 seeds them; the demo puts them
back after emptying its tables). Admins change them through the API from then on.

These are the seven replies the console used to carry in its code, in Korean and English,
with the emergency number and the case number as placeholders where the text names them.
Keep this list as it is: it is what 0008 wrote; new defaults belong in a new migration.
"""

from __future__ import annotations

#: (key, position, {language: (title, body)}).
DEFAULT_REPLIES: tuple[tuple[str, int, dict[str, tuple[str, str]]], ...] = (
    (
        "ask_details",
        10,
        {
            "ko": (
                "환자 정보 요청",
                "정확한 상담을 위해 환자의 나이, 증상과 증상이 시작된 시각, 복용 중인 약, "
                "알레르기를 알려주세요.",
            ),
            "en": (
                "Ask for the patient's details",
                "To advise you properly, please tell us the patient's age, the symptoms and "
                "when they began, any medicines taken, and any allergies.",
            ),
        },
    ),
    (
        "call_ems",
        20,
        {
            "ko": (
                "지금 응급번호로 전화",
                "생명이 위급할 수 있습니다. 지금 바로 {emergency_number}에 전화해 구급차를 "
                "요청하세요. 통화 후 다시 알려주세요.",
            ),
            "en": (
                "Call the emergency number now",
                "This may be life-threatening. Call {emergency_number} now and ask for an "
                "ambulance, then tell us how it goes.",
            ),
        },
    ),
    (
        "go_to_ed",
        30,
        {
            "ko": (
                "지금 응급실로",
                "가까운 응급실로 지금 바로 가시기 바랍니다. 이동이 어려우면 "
                "{emergency_number}에 전화하세요.",
            ),
            "en": (
                "Go to the emergency department now",
                "Please go to the nearest emergency department now. If you cannot get there, "
                "call {emergency_number}.",
            ),
        },
    ),
    (
        "photo",
        40,
        {
            "ko": (
                "상처 사진 요청",
                "상처 부위 사진을 보내주시면 더 정확히 안내드릴 수 있습니다.",
            ),
            "en": (
                "Ask for a photo of the wound",
                "If you can send a photo of the wound, we can advise you more precisely.",
            ),
        },
    ),
    (
        "medicine_list",
        50,
        {
            "ko": (
                "가진 약 확인",
                "가지고 계신 약의 이름(포장 사진도 좋습니다)을 알려주세요.",
            ),
            "en": (
                "Ask which medicines they have",
                "Please tell us the names of the medicines you have with you (a photo of the "
                "packets is fine).",
            ),
        },
    ),
    (
        "consular",
        60,
        {
            "ko": (
                "통역: 영사콜센터",
                "통역이 필요하시면 외교부 영사콜센터(+82-2-3210-0404)로 연락하실 수 있습니다.",
            ),
            "en": (
                "Interpreter: consular call centre",
                "If you need an interpreter, the consular call centre can help: +82-2-3210-0404.",
            ),
        },
    ),
    (
        "follow_up",
        70,
        {
            "ko": (
                "다시 연락 안내",
                "증상이 나아지지 않거나 심해지면 언제든 다시 연락 주세요(상담 번호 "
                "{case_number}). 24시간 상담 가능합니다.",
            ),
            "en": (
                "Contact us again",
                "If the symptoms do not improve or get worse, contact us again at any time "
                "(case {case_number}); we answer 24 hours a day.",
            ),
        },
    ),
)


def default_rows() -> list[dict[str, object]]:
    """The defaults as table rows (without times), Korean then English per reply."""
    return [
        {"key": key, "language": language, "title": title, "body": body, "position": position}
        for key, position, texts in DEFAULT_REPLIES
        for language, (title, body) in texts.items()
    ]
