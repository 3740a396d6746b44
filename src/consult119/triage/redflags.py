"""Red-flag pre-triage: words in a traveller's message that suggest high acuity.

This is a safety net, not a diagnosis: it only ever raises a case's rank in the queue so a person
looks at it sooner. It never lowers a level and never sets ``acuity`` (a person does that).
False alarms cost a minute of a doctor's attention; a missed chest pain costs far more, so the
patterns lean towards catching.

Korean is matched with the spaces taken out (people space Korean freely: "숨 쉬기 힘들어요",
"숨쉬기힘들어요"); English is matched on word boundaries, case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class RedFlag:
    code: str
    suspected_acuity: int
    korean: tuple[str, ...]
    english: tuple[str, ...]


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "unconscious",
        1,
        (
            r"의식(이|을)?없",
            r"의식(을)?잃",
            r"의식불명",
            r"깨어나지(않|못)",
            r"반응(이)?없",
            r"기절",
            r"실신",
            r"쓰러져(서)?(안|못)일어",
        ),
        (
            r"unconscious",
            r"unresponsive",
            r"passed out",
            r"fainted",
            r"not waking up",
            r"won'?t wake up",
            r"collapsed",
        ),
    ),
    RedFlag(
        "cardiac_arrest",
        1,
        (r"심정지", r"심장(이)?멈", r"맥박(이)?없", r"숨(을)?안쉬", r"숨(을)?쉬지않", r"심폐소생"),
        (r"cardiac arrest", r"no pulse", r"not breathing", r"stopped breathing", r"\bcpr\b"),
    ),
    RedFlag(
        "anaphylaxis",
        1,
        (
            r"아나필락시스",
            r"(?<![발손])목(이|구멍이)?부(어|었)",  # not 발목 (ankle), 손목 (wrist)
            r"혀(가)?부(어|었)",
            r"입술(이)?부(어|었)",
            r"알레르기.*(숨|호흡)",
            r"에피펜",
        ),
        (
            r"anaphyla\w*",
            r"throat (is )?(swelling|closing|swollen)",
            r"tongue (is )?swell\w*",
            r"lips? (are |is )?swell\w*",
            r"epi-?pen",
            r"allergic reaction",
        ),
    ),
    RedFlag(
        "breathing_difficulty",
        2,
        (
            r"호흡곤란",
            r"숨(이|을)?(쉬기|쉬는게|쉬는것이)?(가)?(힘들|어렵|곤란|못쉬|안쉬어)",
            r"숨(이)?차",
            r"숨(이)?막",
            r"숨을못",
            r"숨쉬기(가)?(힘|어려)",
            r"헐떡",
        ),
        (
            r"can'?t breathe",
            r"cannot breathe",
            r"short(ness)? of breath",
            r"difficulty breathing",
            r"trouble breathing",
            r"hard to breathe",
            r"struggling to breathe",
            r"choking",
            r"breathless",
        ),
    ),
    RedFlag(
        "chest_pain",
        2,
        (
            r"흉통",
            r"가슴.{0,6}(통증|아프|아파|아픈|답답|조이|조여|쥐어짜|찌르)",
            r"가슴통증",
            r"심장(이)?(아프|아파)",
            r"심근경색",
            r"협심증",
        ),
        (
            r"chest pains?",
            r"chest (is )?(hurts?|tight\w*|pressure)",
            r"pain in (my|his|her|the) chest",
            r"heart attack",
        ),
    ),
    RedFlag(
        "heavy_bleeding",
        2,
        (
            r"피(가)?(많이|계속|멈추지|안멈|철철|콸콸)",
            r"출혈(이)?(심|많|멈추지|안멈)",
            r"과다출혈",
            r"대량출혈",
            r"지혈(이)?(안|되지)",
            r"피를(많이)?토",
            r"토혈",
            r"각혈",
            r"하혈(이)?심",
        ),
        (
            r"heavy bleeding",
            r"bleeding (heavily|a lot|badly|profusely)",
            r"(won'?t|will not|doesn'?t|does not|can'?t) stop bleeding",
            r"bleeding (won'?t|will not|doesn'?t|does not) stop",
            r"lots? of blood",
            r"vomiting blood",
            r"coughing (up )?blood",
        ),
    ),
    RedFlag(
        "seizure",
        2,
        (r"경련", r"발작", r"간질", r"뇌전증", r"몸이떨리며쓰러"),
        (
            r"seizures?",
            r"seizing",
            r"convulsions?",
            r"convulsing",
            r"(having|had) a fit",
            r"epilep\w*",
        ),
    ),
    RedFlag(
        "stroke_signs",
        2,
        (
            r"뇌졸중",
            r"뇌경색",
            r"뇌출혈",
            r"중풍",
            r"(한쪽|반쪽|팔|다리|얼굴)(이|에)?(마비|힘이없|힘이빠)",
            r"마비",
            r"말(이|을)?(어눌|잘못|안나|못하)",
            r"발음(이)?(어눌|이상)",
            r"얼굴(이)?(한쪽|비뚤|돌아)",
            r"입(이)?돌아",
        ),
        (
            r"stroke",
            r"face (is )?droop\w*",
            r"drooping face",
            r"slurred speech",
            r"slurring",
            r"(one side|arm|leg) (is )?(numb|weak|paralys\w*)",
            r"paralys\w*",
            r"can'?t (speak|talk) properly",
        ),
    ),
    RedFlag(
        "suicidal_thoughts",
        2,
        (r"자살", r"죽고싶", r"죽어버리", r"살고싶지않", r"극단적(인)?선택", r"목숨을끊", r"자해"),
        (
            r"suicid\w*",
            r"kill (my|him|her)sel(f|ves)",
            r"end (my|his|her) life",
            r"want to die",
            r"self[- ]harm",
            r"hurt (my|him|her)self",
        ),
    ),
    RedFlag(
        "major_trauma",
        2,
        (
            r"교통사고",
            r"추락",
            r"떨어졌는데(의식|머리)",
            r"머리를(심하게)?(다쳤|부딪)",
            r"뼈가(튀어|보여)",
            r"총상",
            r"칼에찔",
            r"자상",
        ),
        (
            r"car (accident|crash)",
            r"hit by a (car|vehicle)",
            r"fell from",
            r"head injury",
            r"bone (is )?sticking out",
            r"stab(bed)?",
            r"gunshot",
        ),
    ),
    RedFlag(
        "poisoning",
        2,
        (r"중독", r"음독", r"약(을)?(많이|한꺼번에|과다)", r"과다복용", r"농약", r"독(버섯|극물)"),
        (r"overdose", r"poison\w*", r"swallowed (bleach|chemicals?)", r"took too many pills"),
    ),
)

_KOREAN = [(flag, re.compile("|".join(flag.korean))) for flag in RED_FLAGS]
_ENGLISH = [
    (flag, re.compile(r"\b(?:" + "|".join(flag.english) + r")", re.IGNORECASE))
    for flag in RED_FLAGS
]
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Finding:
    flags: tuple[str, ...]
    suspected_acuity: int | None


def detect(text: str) -> Finding:
    """The red flags in ``text`` (codes, in table order) and the most urgent level they suggest."""
    squeezed = _SPACE.sub("", text)
    spaced = _SPACE.sub(" ", text)
    found = [
        flag
        for (flag, ko), (_, en) in zip(_KOREAN, _ENGLISH, strict=True)
        if ko.search(squeezed) or en.search(spaced)
    ]
    if not found:
        return Finding((), None)
    return Finding(tuple(f.code for f in found), min(f.suspected_acuity for f in found))
