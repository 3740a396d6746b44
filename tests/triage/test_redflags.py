"""Red-flag pre-triage reads Korean and English; it flags the dangerous, not the everyday."""

from __future__ import annotations

import pytest

from consult119.triage.redflags import detect

FLAGGED = [
    ("가슴이 아파요", "chest_pain", 2),
    ("가슴 이 너무 답답하고 조여요", "chest_pain", 2),
    ("흉통이 있어요", "chest_pain", 2),
    ("숨 쉬기가 힘들어요", "breathing_difficulty", 2),
    ("호흡곤란이 와요", "breathing_difficulty", 2),
    ("아버지가 의식이 없어요", "unconscious", 1),
    ("남편이 쓰러져서 안 일어나요", "unconscious", 1),
    ("피가 계속 나요 멈추지 않아요", "heavy_bleeding", 2),
    ("아이가 경련을 해요", "seizure", 2),
    ("얼굴 한쪽이 마비됐어요", "stroke_signs", 2),
    ("말이 어눌해졌어요", "stroke_signs", 2),
    ("땅콩 먹고 목이 부었어요", "anaphylaxis", 1),
    ("죽고 싶어요", "suicidal_thoughts", 2),
    ("I have chest pain", "chest_pain", 2),
    ("My chest is tight", "chest_pain", 2),
    ("I can't breathe", "breathing_difficulty", 2),
    ("shortness of breath since this morning", "breathing_difficulty", 2),
    ("she is UNCONSCIOUS", "unconscious", 1),
    ("the cut won't stop bleeding", "heavy_bleeding", 2),
    ("my son had a seizure", "seizure", 2),
    ("her face is drooping and speech slurred", "stroke_signs", 2),
    ("throat swelling after peanuts", "anaphylaxis", 1),
    ("I want to die", "suicidal_thoughts", 2),
    ("he is thinking about suicide", "suicidal_thoughts", 2),
]


@pytest.mark.parametrize(("text", "flag", "level"), FLAGGED)
def test_red_flags_in_both_languages(text, flag, level):
    finding = detect(text)
    assert flag in finding.flags
    assert finding.suspected_acuity is not None and finding.suspected_acuity <= level


@pytest.mark.parametrize(
    "text",
    [
        "배가 조금 아파요",
        "약국이 어디 있나요?",
        "감기약을 사고 싶어요",
        "I have a mild headache",
        "Where can I buy sunscreen?",
        "my wife fits right in here",
        "feeling a bit tired after the flight",
        # 발목 (ankle) and 손목 (wrist) end in 목 (throat): a swollen ankle is no anaphylaxis.
        "넘어져서 발목이 부었어요",
        "손목이 부어서 아파요",
    ],
)
def test_everyday_words_raise_nothing(text):
    assert detect(text).flags == ()
    assert detect(text).suspected_acuity is None


def test_most_urgent_flag_sets_the_level():
    finding = detect("가슴이 아프고 지금은 의식이 없어요")
    assert finding.flags == ("unconscious", "chest_pain")
    assert finding.suspected_acuity == 1
