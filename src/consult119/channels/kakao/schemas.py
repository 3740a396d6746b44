"""The kakao channel's request and response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from consult119.intake.schemas import Id, Text


class KakaoUserProperties(BaseModel):
    model_config = ConfigDict(extra="ignore")

    plusfriendUserKey: str | None = Field(default=None, max_length=200)  # Kakao's name
    appUserId: str | None = Field(default=None, max_length=200)  # noqa: N815


class KakaoUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    type: str | None = Field(default=None, max_length=40)
    properties: KakaoUserProperties = KakaoUserProperties()


class KakaoUserRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    utterance: Text
    user: KakaoUser
    lang: str | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)
    callbackUrl: str | None = Field(default=None, max_length=1000)  # noqa: N815
    #: ``media`` (``{"type": "image", "url"}``) when the traveller sent a photo.
    params: dict[str, Any] | None = None


class SkillRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    userRequest: KakaoUserRequest  # noqa: N815
    #: The block's parameters: the secure-image plugin puts the photos' URLs here.
    action: dict[str, Any] | None = None


class SimpleText(BaseModel):
    text: str


class SkillOutput(BaseModel):
    simpleText: SimpleText  # Kakao's name


class QuickReply(BaseModel):
    label: str
    action: str
    messageText: str  # Kakao's name


class SkillTemplate(BaseModel):
    outputs: list[SkillOutput]
    quickReplies: list[QuickReply]  # Kakao's name


class SkillResponse(BaseModel):
    """The skill response, version 2.0 of Kakao's format: text outputs and quick replies."""

    version: str
    template: SkillTemplate
