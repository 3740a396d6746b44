"""docs/api.md names every route of the app and every error code the source can raise."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import Route, WebSocketRoute

from consult119.config import Settings
from consult119.errors import STANDARD_MESSAGES, DomainError
from consult119.main import create_app

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "consult119"
API_DOC = ROOT / "docs" / "api.md"
#: FastAPI's own documentation routes.
SKIPPED_PREFIXES = ("/docs", "/redoc", "/openapi.json")
#: "GET /api/v1/tickets/{ticket_id}", "WS /ws/chat" as the page writes them.
DOC_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|WS) (/[^\s`|)]*)")
DOC_CODE_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (\d{3}) \|", re.MULTILINE)


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route and WebSocket the app serves, mounts left out."""
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'routes.db'}", secret_key="k" * 40)
    )
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path
        if path is None or path.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(route, (APIWebSocketRoute, WebSocketRoute)):
            found.add(("WS", path))
        elif isinstance(route, (APIRoute, Route)):
            found |= {(m, path) for m in (context.methods or ()) if m != "HEAD"}
    return found


def test_every_route_is_documented(tmp_path: Path) -> None:
    routes = app_routes(tmp_path)
    assert ("POST", "/api/v1/tickets/{ticket_id}/claim") in routes  # the walk sees included routers
    assert ("WS", "/ws/console") in routes
    documented = set(DOC_ROUTE.findall(API_DOC.read_text(encoding="utf-8")))
    missing = sorted(routes - documented)
    assert not missing, f"routes missing from docs/api.md: {missing}"


# ---- error codes ------------------------------------------------------------------------------


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _constant(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def raised_codes() -> dict[str, set[str]]:
    """Every constant code given to a DomainError subclass in src, with where it was seen.

    A code passed through a helper (``check_choice(value, choices, "unknown_by", ...)``, whose
    ``code`` parameter goes on to ``Invalid(code, ...)``) counts too.
    """
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in SRC.rglob("*.py")}
    errors = {"DomainError"}
    grew = True
    while grew:  # subclasses of subclasses, anywhere in src
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in errors
                    and any(_name(base) in errors for base in node.bases)
                ):
                    errors.add(node.name)
                    grew = True
    # Functions that hand one of their parameters to an error as its code.
    helpers: dict[str, tuple[int, str]] = {}
    for tree in trees.values():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            params = [a.arg for a in func.args.args]
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and _name(node.func) in errors and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Name) and first.id in params:
                        helpers[func.name] = (params.index(first.id), first.id)
    codes: dict[str, set[str]] = {}
    for path, tree in trees.items():
        where = str(path.relative_to(SRC))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            code = None
            if name in errors and node.args:
                code = _constant(node.args[0])
            elif name in helpers:
                index, param = helpers[name]
                given = node.args[index] if len(node.args) > index else None
                given = given or next((k.value for k in node.keywords if k.arg == param), None)
                code = _constant(given)
            if code is not None:
                codes.setdefault(code, set()).add(where)
    return codes


def documented_codes() -> dict[str, set[int]]:
    table: dict[str, set[int]] = {}
    for code, status in DOC_CODE_ROW.findall(API_DOC.read_text(encoding="utf-8")):
        table.setdefault(code, set()).add(int(status))
    return table


def test_every_error_code_is_in_the_table() -> None:
    codes = raised_codes()
    # The walk finds codes raised directly and through the report helper.
    assert {"ticket_taken", "bad_signature", "channel_not_configured", "unknown_by"} <= set(codes)
    table = documented_codes()
    missing = sorted(set(codes) - set(table))
    assert not missing, "error codes missing from the table in docs/api.md: " + ", ".join(
        f"{c} ({', '.join(sorted(codes[c]))})" for c in missing
    )
    standard = sorted(set(STANDARD_MESSAGES) - set(table))
    assert not standard, f"standard error codes missing from docs/api.md: {standard}"


def test_documented_statuses_match_the_error_classes() -> None:
    """A code's documented status is the one its error class gives."""
    statuses: dict[str, int] = {}
    pending = [DomainError]
    while pending:  # every subclass the app imports (create_app is imported above)
        cls = pending.pop()
        statuses[cls.__name__] = cls.status_code
        pending += cls.__subclasses__()
    assert statuses["ChannelNotConfigured"] == 503
    table = documented_codes()
    wrong = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in statuses and node.args:
                code = _constant(node.args[0])
                status = statuses[_name(node.func)]  # type: ignore[index]
                if code is not None and code in table and status not in table[code]:
                    wrong.append((code, status, sorted(table[code])))
    assert not wrong, f"documented status differs from the raised one: {wrong}"
