"""docs/operations.md lists every ``CONSULT119_*`` setting any settings class reads."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from pydantic_settings import BaseSettings

import consult119

OPERATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class defined in the package (each module imported first)."""
    for module in pkgutil.walk_packages(consult119.__path__, "consult119."):
        if not module.name.startswith("consult119.migrations"):  # Alembic scripts run on import
            importlib.import_module(module.name)
    found: list[type[BaseSettings]] = []
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("consult119."):
            found.append(cls)
    return found


def environment_names(cls: type[BaseSettings]) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        names.add((alias or f"{prefix}{name}").upper())
    return names


def test_every_setting_is_documented() -> None:
    classes = {cls.__name__ for cls in settings_classes()}
    assert {"Settings", "ConsoleSettings", "AssignmentPolicy", "PageSettings"} <= classes
    names = set().union(*(environment_names(cls) for cls in settings_classes()))
    assert "CONSULT119_RETENTION_AUDIT_DAYS" in names
    doc = OPERATIONS_DOC.read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"settings missing from docs/operations.md: {missing}"
