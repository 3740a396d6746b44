"""The API's shapes: models in ``schemas.py``, a response model on every JSON route, one page
shape for lists, and bounds on every id a client sends."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from consult119.config import Settings
from consult119.main import create_app
from consult119.types import MAX_ID
from tests.conftest import TEST_SECRET

SRC = Path(__file__).resolve().parents[1] / "src" / "consult119"

#: Answers that are not JSON: files to download, and 204 No Content.
NOT_JSON = frozenset(
    {
        ("get", "/api/v1/reports/workbook"),
        ("get", "/api/v1/reports/cases"),
        ("delete", "/api/v1/replies/{reply_id}"),
        # Files: the bytes of a photo or PDF, and a thumbnail JPEG.
        ("get", "/api/v1/attachments/{attachment_id}"),
        ("get", "/api/v1/attachments/{attachment_id}/thumbnail"),
        ("get", "/api/v1/webchat/attachments/{attachment_id}"),
    }
)

PAGE_FIELDS = {"items", "total"}
#: What a page may carry beside its items and total.
PAGE_EXTRAS = {"total_capped"}


def _routes_modules() -> list[Path]:
    found = []
    for path in SRC.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "APIRouter(" in source:
            found.append(path)
    return found


def _models_defined(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
            if "BaseModel" in bases or any(n.endswith(("In", "Out", "Page")) for n in bases):
                names.append(node.name)
    return names


def test_routes_define_no_models() -> None:
    offenders = {}
    for path in _routes_modules():
        rel = path.relative_to(SRC).as_posix()
        models = _models_defined(path)
        if models:
            offenders[rel] = models
    assert not offenders, f"request/response models outside schemas.py: {offenders}"


@pytest.fixture(scope="module")
def openapi(tmp_path_factory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('schemas') / 'schemas.db'}"
    return create_app(Settings(database_url=url, secret_key=TEST_SECRET)).openapi()


def _operations(openapi: dict[str, Any]):
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def test_every_json_route_has_a_response_model(openapi) -> None:
    bare = []
    for method, path, op in _operations(openapi):
        if (method, path) in NOT_JSON:
            continue
        schemas = [
            answer.get("content", {}).get("application/json", {}).get("schema")
            for code, answer in op["responses"].items()
            if code.startswith("2") and answer.get("content")
        ]
        if not schemas or any(not schema or "$ref" not in schema for schema in schemas):
            bare.append(f"{method.upper()} {path}")
    assert not bare, f"routes answering a bare dict (give them a response model): {bare}"


def test_every_list_has_the_one_page_shape(openapi) -> None:
    odd = {}
    for name, schema in openapi["components"]["schemas"].items():
        fields = set(schema.get("properties", {}))
        if "items" in fields and not (PAGE_FIELDS <= fields <= PAGE_FIELDS | PAGE_EXTRAS):
            odd[name] = sorted(fields)
    assert not odd, f"lists not shaped {{items, total}}: {odd}"
    assert "QueuePage" in openapi["components"]["schemas"]  # the check saw the pages


def _bounded(schema: dict[str, Any]) -> bool:
    """Whether an integer id is held to 1..MAX_ID (ids that are text — a provider's call id, an
    OAuth client id — are held by their length elsewhere)."""
    options = schema.get("anyOf", [schema])
    ints = [s for s in options if s.get("type") == "integer"]
    return all(s.get("minimum") == 1 and s.get("maximum") == MAX_ID for s in ints)


def test_every_id_a_client_sends_is_bounded(openapi) -> None:
    loose = []
    for method, path, op in _operations(openapi):
        for param in op.get("parameters", []):
            if param["name"].endswith("_id") and not _bounded(param["schema"]):
                loose.append(f"{method.upper()} {path} {param['in']} {param['name']}")
        body = op.get("requestBody", {}).get("content", {})
        for media in body.values():
            schema = _resolve(openapi, media.get("schema", {}))
            for name, prop in schema.get("properties", {}).items():
                if name.endswith("_id") and not _bounded(prop):
                    loose.append(f"{method.upper()} {path} body {name}")
    assert not loose, f"ids without the 1..{MAX_ID} bounds: {loose}"
