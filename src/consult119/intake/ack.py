"""The acknowledgement a traveller reads at once after writing in."""

from __future__ import annotations

from consult119.intake.service import IntakeResult


def acknowledgement(result: IntakeResult, locale: str | None) -> str:
    """Case number and what happens next, in Korean unless the traveller writes in English."""
    english = (locale or "").lower().startswith("en")
    number = result.case_number
    if result.created:
        if english:
            return (
                f"Your case {number} is open. An emergency doctor will answer shortly. "
                "If life is in danger, call the local emergency number now."
            )
        return (
            f"상담 번호 {number}가 접수되었습니다. 응급의학 전문의가 곧 답변드립니다. "
            "생명이 위급하면 지금 바로 현지 응급번호로 전화하세요."
        )
    if english:
        return f"Added to your case {number}."
    return f"상담 {number}에 추가되었습니다."
