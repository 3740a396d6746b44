"""The demo's figures: the published counts (FACTS.md), the shares that shape the rest, and the
words, names and places its cases are made of; and the few helpers that turn shares into
exact counts."""

from __future__ import annotations

import random
from typing import Any

DEMO_DOMAIN = "demo.consult119.example"

#: Cases per year and source. 2021, 2022 and 2024 are the published figures; 2023's KakaoTalk
#: count gives the published +11.9 points, its other channels are free (FACTS.md).
PUBLISHED: dict[int, dict[str, int]] = {
    2021: {"kakao": 698, "smtp": 1108, "phone": 724, "webchat": 46},
    2022: {"kakao": 1521, "line": 26, "smtp": 1490, "phone": 774},
    2023: {"kakao": 2092, "line": 28, "smtp": 1400, "phone": 615},
    2024: {"kakao": 3062, "line": 31, "smtp": 1338, "phone": 470},
}
#: 2025 onwards: not published; KakaoTalk keeps growing, phone keeps shrinking.
LATER: dict[str, int] = {"kakao": 3720, "line": 38, "smtp": 1290, "phone": 412, "webchat": 60}

#: Patient location (sea, land, air); 2024 is published exactly, other years follow its trend.
LOCATION_2024 = {"sea": 2586, "land": 2308, "air": 7}
SEA_SHARE = {2021: 0.44, 2022: 0.47, 2023: 0.50, 2024: 0.528}

CATEGORY_2021 = {
    "medical_consultation": 57.6,
    "first_aid": 23.8,
    "medication": 14.8,
    "hospital_info": 2.2,
    "transfer": 1.0,
    "other": 0.6,
}
CATEGORY_2024 = {
    "medical_consultation": 64.2,
    "first_aid": 17.5,
    "medication": 11.8,
    "hospital_info": 3.8,
    "transfer": 1.8,
    "other": 0.9,
}
ACUITY = {1: 1.5, 2: 9.0, 3: 27.0, 4: 37.5, 5: 25.0}
MONTH_WEIGHT = [8.6, 7.6, 8.0, 7.9, 8.2, 8.0, 9.2, 9.6, 8.3, 8.6, 7.8, 8.2]
COUNTRIES = {
    "land": {
        "JP": 18,
        "VN": 13,
        "CN": 9,
        "US": 10,
        "TH": 8,
        "PH": 6,
        "AU": 4,
        "FR": 3,
        "DE": 3,
        "GB": 3,
        "CA": 3,
        "ID": 3,
        "MY": 2,
        "SG": 2,
        "TW": 3,
        "MN": 2,
        "KH": 2,
        "IT": 2,
        "ES": 2,
        "NZ": 1,
        "AE": 1,
    },
    "sea": {
        "SG": 12,
        "CN": 12,
        "JP": 8,
        "PA": 7,
        "AE": 6,
        "NL": 5,
        "US": 6,
        "BR": 4,
        "AU": 5,
        "ZA": 4,
        "ES": 3,
        "IN": 5,
        "SA": 4,
        "CL": 3,
        "MX": 3,
        "EG": 3,
    },
    "air": {"US": 3, "FR": 1, "DE": 1, "AE": 1, "JP": 1},
}
VESSELS = [
    "Hanbada",
    "Pan Ocean Glory",
    "HMM Algeciras",
    "Sinokor Star",
    "Korea Express",
    "Busan Pioneer",
    "Ocean Dream",
    "Jeju Spirit",
    "Dongbang Hope",
    "Pacific Harmony",
]
TARGET_MINUTES = {1: 1, 2: 10, 3: 30, 4: 60, 5: 120}  # the demo takes "immediate" as 1 minute
RESPONSE_MEDIAN_MIN = {1: 0.5, 2: 3.5, 3: 11.0, 4: 22.0, 5: 40.0}
CHANNEL_PACE = {"chat": 1.0, "email": 5.0, "phone": 0.15}
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "하은",
    "지호",
    "수아",
    "예준",
    "지민",
    "현우",
    "서윤",
    "준서",
    "채원",
    "건우",
    "다은",
    "우진",
    "소율",
    "태윤",
    "지아",
]
SYMPTOMS = {
    "medical_consultation": [
        "열이 39도까지 올라요",
        "가슴이 답답하고 숨이 차요",
        "복통과 설사가 계속돼요",
        "머리가 심하게 아파요",
        "아이가 밤새 토했어요",
    ],
    "first_aid": [
        "넘어져서 손목이 부었어요",
        "칼에 베였는데 피가 안 멈춰요",
        "화상을 입었어요",
        "벌에 쏘였어요",
        "배에서 미끄러져 허리를 다쳤어요",
    ],
    "medication": [
        "현지에서 해열제를 사도 되나요",
        "혈압약이 떨어졌어요",
        "이 약을 같이 먹어도 되나요",
    ],
    "hospital_info": ["근처 응급실이 어디인가요", "현지 병원 이용 방법을 알려주세요"],
    "transfer": ["한국으로 이송하려면 어떻게 하나요", "환자 국내 이송 절차가 궁금해요"],
    "other": ["보험 처리 서류가 필요해요", "통역이 필요해요"],
}
REPLY = "의사입니다. 말씀하신 증상 확인했습니다. 안내드린 대로 조치하시고 변화가 있으면 바로 알려주세요."


def apportion(weights: dict[Any, float], n: int) -> dict[Any, int]:
    """Whole counts summing to ``n`` in proportion to ``weights`` (largest remainder)."""
    total = sum(weights.values())
    raw = {k: w * n / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in raw.items()}
    rest = n - sum(counts.values())
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[:rest]:
        counts[k] += 1
    return counts


def exact_list(counts: dict[Any, int], rng: random.Random) -> list[Any]:
    values = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(values)
    return values


def weighted(rng: random.Random, table: dict[Any, float]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


def disposition(rng: random.Random, acuity: int, category: str) -> str:
    if category == "transfer":
        return "repatriation"
    table = {
        1: {"call_local_ems": 85, "go_to_ed_now": 15},
        2: {"go_to_ed_now": 70, "call_local_ems": 25, "referred": 5},
        3: {"go_to_ed_now": 35, "see_doctor_soon": 55, "referred": 10},
        4: {"see_doctor_soon": 55, "self_care": 40, "referred": 5},
        5: {"self_care": 75, "see_doctor_soon": 15, "referred": 10},
    }[acuity]
    return weighted(rng, table)


def age_sex(rng: random.Random, location: str) -> tuple[int, str]:
    if location == "sea":  # crew
        return rng.randint(20, 64), "M" if rng.random() < 0.93 else "F"
    age = min(90, max(0, int(rng.gauss(38, 17))))
    return age, rng.choice("MF")
