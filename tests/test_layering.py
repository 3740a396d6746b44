"""Every query lives in a repository (the rule Polar keeps in its AGENTS.md).

A *query* is anything that builds or runs SQL:

- a call of SQLAlchemy's statement builders ``select(``, ``insert(``, ``update(``, ``delete(``
  or ``text(`` (bare or as ``sa.select(`` …);
- a call of ``.execute(``, ``.scalars(``, ``.scalar(``, ``.exec(``, ``.query(`` or
  ``.exec_driver_sql(`` on anything (a session, a connection, a prebuilt ``db.Prepared``);
- ``.get(`` on a session (``session.get(Ticket, 1)``; ``dict.get`` is not a query).

Queries may appear only in

- modules named ``repository.py``, or any module of a package named ``repositories``;
- the database layer: ``db.py``, ``groupcommit.py``, ``migrate.py`` and ``migrations/``, and
  ``backup.py``, which copies and checks database files through SQLite's own connection
  (the online backup API, ``PRAGMA integrity_check``), not the domain's tables;
- the event log, ``realtime/events.py`` (the unit of work calls it at commit).

Routes, services, channel adapters, CLIs and jobs call a repository function instead, so the
SQL of a domain is in one file, read and changed in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "consult119"

STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
QUERY_METHODS = frozenset({"execute", "scalars", "scalar", "exec", "query", "exec_driver_sql"})
SQL_PACKAGES = ("sqlalchemy", "sqlmodel")
DATABASE_LAYER = frozenset({"db.py", "groupcommit.py", "migrate.py", "backup.py"})
EVENT_LOG = frozenset({"realtime/events.py"})


def may_query(path: str) -> bool:
    """Whether the module at ``path`` (relative to the package, ``/``-separated) may query."""
    p = PurePosixPath(path)
    return (
        p.name == "repository.py"
        or "repositories" in p.parts[:-1]
        or path in DATABASE_LAYER
        or p.parts[0] == "migrations"
        or path in EVENT_LOG
    )


def _is_session(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name == "session" or name.endswith("_session")


def queries_in(source: str) -> list[tuple[int, str]]:
    """(line, what) of every query in ``source``."""
    tree = ast.parse(source)
    builders = set(STATEMENT_BUILDERS)
    for node in ast.walk(tree):  # ``from sqlalchemy import update as sql_update`` and the like
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(SQL_PACKAGES):
            builders |= {a.asname for a in node.names if a.name in STATEMENT_BUILDERS and a.asname}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in builders:
            found.append((node.lineno, f"{func.id}("))
        elif isinstance(func, ast.Attribute):
            if func.attr in STATEMENT_BUILDERS and isinstance(func.value, ast.Name):
                if func.value.id in {"sa", *SQL_PACKAGES}:
                    found.append((node.lineno, f"{func.value.id}.{func.attr}("))
            elif func.attr in QUERY_METHODS:
                found.append((node.lineno, f".{func.attr}("))
            elif func.attr == "get" and _is_session(func.value):
                found.append((node.lineno, "session.get("))
    return sorted(found)


def violations(root: Path = SRC) -> dict[str, list[tuple[int, str]]]:
    """Queries outside the modules allowed to hold them, by module."""
    out: dict[str, list[tuple[int, str]]] = {}
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if may_query(rel):
            continue
        found = queries_in(file.read_text(encoding="utf-8"))
        if found:
            out[rel] = found
    return out


def test_no_query_outside_repositories() -> None:
    bad = violations()
    listing = "\n".join(
        f"  src/consult119/{path}:{line}: {what}"
        for path, rows in bad.items()
        for line, what in rows
    )
    assert not bad, f"queries outside repository modules (move them to a repository):\n{listing}"


BAD_MODULE = """
from sqlalchemy import select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from consult119.tickets.models import Ticket

def open_count(session):
    return session.scalar(select(Ticket.id).where(Ticket.status == "new"))

def touch(session, ticket_id):
    session.execute(update(Ticket).where(Ticket.id == ticket_id).values(version=1))
    session.execute(text("SELECT 1"))
    return session.get(Ticket, ticket_id)

def fine(ctx, mapping):
    return mapping.get("x"), ctx.extras.get("y")

def upsert(session):
    session.execute(sqlite_insert(Ticket).on_conflict_do_nothing())
"""


def test_the_checker_finds_queries_in_a_bad_module() -> None:
    assert queries_in(BAD_MODULE) == [
        (7, ".scalar("),
        (7, "select("),
        (10, ".execute("),
        (10, "update("),
        (11, ".execute("),
        (11, "text("),
        (12, "session.get("),
        (18, ".execute("),
        (18, "sqlite_insert("),
    ]


def test_the_checker_walks_a_tree(tmp_path: Path) -> None:
    (tmp_path / "tickets").mkdir()
    (tmp_path / "tickets" / "service.py").write_text(BAD_MODULE, encoding="utf-8")
    (tmp_path / "tickets" / "repository.py").write_text(BAD_MODULE, encoding="utf-8")
    (tmp_path / "db.py").write_text(BAD_MODULE, encoding="utf-8")
    assert list(violations(tmp_path)) == ["tickets/service.py"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("tickets/repository.py", True),
        ("reports/repositories/exports.py", True),
        ("db.py", True),
        ("groupcommit.py", True),
        ("migrations/versions/0001_initial.py", True),
        ("realtime/events.py", True),
        ("tickets/service.py", False),
        ("tickets/routes.py", False),
        ("realtime/relay.py", False),
        ("demo.py", False),
    ],
)
def test_which_modules_may_query(path: str, allowed: bool) -> None:
    assert may_query(path) is allowed


# --- one place for each domain write --------------------------------------------------------


def _modules(root: Path = SRC) -> list[tuple[str, ast.Module]]:
    return [
        (f.relative_to(root).as_posix(), ast.parse(f.read_text(encoding="utf-8")))
        for f in sorted(root.rglob("*.py"))
        if "migrations" not in f.relative_to(root).parts
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants of ``tree`` (prose may show a case number)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def case_number_spellings(tree: ast.Module) -> list[int]:
    """Lines that spell a case number's format (an f-string or a pattern with ``C119-``)."""
    docs = _docstrings(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
            if any("C119" in str(p) for p in parts):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "C119-" in node.value
            and id(node) not in docs
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def version_moves(tree: ast.Module) -> list[int]:
    """Lines that move a version by hand: ``x.version += 1`` or ``Ticket.version + 1``."""
    lines = []
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AugAssign) else None
        left = node.left if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) else None
        if any(isinstance(n, ast.Attribute) and n.attr == "version" for n in (target, left)):
            lines.append(node.lineno)
    return lines


def uses_of(tree: ast.Module, name: str) -> list[int]:
    """Lines that use ``name`` (importing it is not a use)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Store)
    ]


def calls_of(tree: ast.Module, name: str) -> list[int]:
    """Lines that call ``name(``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


#: (what, finder, the one module allowed to do it)
ONE_PLACE = [
    ("the case-number format", case_number_spellings, {"tickets/codes.py"}),
    # Each table's version moves in its own repository: a case's, and a canned reply's.
    ("a version bump", version_moves, {"tickets/repository.py", "replies/repository.py"}),
    (
        "the case-number counter",
        lambda t: uses_of(t, "CaseCounter"),
        {"tickets/repository.py", "tickets/models.py", "models.py"},
    ),
    (
        "an access-log row",
        lambda t: calls_of(t, "AuditEntry"),
        {"audit/service.py"},
    ),
]


@pytest.mark.parametrize(("what", "finder", "home"), ONE_PLACE, ids=[w for w, *_ in ONE_PLACE])
def test_one_place_for_each_domain_write(what: str, finder: Any, home: set[str]) -> None:
    elsewhere = {
        path: lines for path, tree in _modules() if path not in home and (lines := finder(tree))
    }
    assert not elsewhere, f"{what} outside {sorted(home)}: {elsewhere}"


def test_the_one_place_finders_see_a_bad_module() -> None:
    tree = ast.parse(
        '"""A docstring may say C119-2026-000001."""\n'
        "def f(ticket, year, seq):\n"
        "    ticket.version += 1\n"
        '    n = f"C119-{year:04d}-{seq:06d}"\n'
        "    return AuditEntry(action='x'), CaseCounter(year=year), Ticket.version + 1\n"
    )
    assert case_number_spellings(tree) == [4]
    assert version_moves(tree) == [3, 5]
    assert calls_of(tree, "AuditEntry") == [5]
    assert uses_of(tree, "CaseCounter") == [5]
    assert calls_of(tree, "CaseCounter") == [5]
