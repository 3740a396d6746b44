"""No import cycles, and no imports hidden inside functions to dodge them.

The graph is read from the source (ast): every module-level import of a ``consult119`` module
(``if TYPE_CHECKING:`` blocks excluded: they never run), ``from a import b`` counting as an
import of ``a.b`` when that is a module. Any cycle fails, printed. An import inside a function
body fails too, except for an optional heavy dependency named in :data:`OPTIONAL_HEAVY`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "consult119"

#: Imported only where needed because they are optional or heavy, and most runs never use them.
OPTIONAL_HEAVY = {
    "uvicorn",  # only `consult119 serve` runs a server; the CLI's other commands start fast
    "psycopg",  # the PostgreSQL driver: absent from a SQLite-only install
    "rich.progress",  # progress bars of long CLI commands only
    "alembic.config",  # migrations: read by backup checks and `db upgrade` only
    "alembic.script",
    "sqlite3",  # the error classes of whichever driver is in use, looked up when counting one
    # The web app and its server: only `serve` and `demo` load them, so every other command
    # (`--help` included) starts without the routes (test_cli_starts_without_the_web_app).
    "consult119.serving",
}


def _files(root: Path = SRC) -> list[Path]:
    return [f for f in sorted(root.rglob("*.py")) if "migrations" not in f.relative_to(root).parts]


def module_name(file: Path, root: Path = SRC) -> str:
    parts = list(file.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: not in functions or classes' methods,
    not under ``if TYPE_CHECKING:``."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                stack += node.body
            stack += node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody
            stack += [s for h in node.handlers for s in h.body]
        elif isinstance(node, (ast.With, ast.ClassDef)):
            stack += node.body


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module → the package modules it imports at module level."""
    files = {module_name(f, root): f for f in _files(root)}
    graph: dict[str, set[str]] = {}
    for name, file in files.items():
        deps: set[str] = set()
        for node in module_level_imports(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            deps |= {t for t in targets if t in files and t != name}
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is a few hundred modules deep
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_a_cycle_in(graph, c) for c in components]


def _a_cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to the start
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected component always has a cycle")


def function_imports(root: Path = SRC) -> set[tuple[str, str, str]]:
    """(module path, function, imported module) of every import inside a function body."""
    found: set[tuple[str, str, str]] = set()
    for file in _files(root):
        rel = file.relative_to(root).as_posix()
        for fn in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    found.add((rel, fn.name, node.module or ""))
                elif isinstance(node, ast.Import):
                    found |= {(rel, fn.name, a.name) for a in node.names}
    return found


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    listing = "\n".join("  " + " -> ".join(c) for c in found)
    assert not found, (
        f"import cycles (break them; never by importing inside a function):\n{listing}"
    )


def test_no_imports_inside_functions() -> None:
    new = sorted(f for f in function_imports() if f[2] not in OPTIONAL_HEAVY)
    listing = "\n".join(f"  src/consult119/{path}: {fn}() imports {mod}" for path, fn, mod in new)
    assert not new, f"imports inside functions (import at module level):\n{listing}"


def test_cli_starts_without_the_web_app() -> None:
    """The one deferred package import earns its place: the CLI loads without the web app."""
    probe = "import sys, consult119.cli; print('consult119.main' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "False"
    with_app = "import sys, consult119.serving; print('consult119.main' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", with_app], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "True"


CYCLIC = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg import b\n",
    "pkg/b.py": "from typing import TYPE_CHECKING\nfrom pkg.c import thing\nif TYPE_CHECKING:\n    from pkg import d\n",
    "pkg/c.py": "import pkg.a\nthing = 1\n",
    "pkg/d.py": "from pkg import b\ndef f():\n    from pkg import a\n",
}


def test_the_checkers_see_a_cycle_and_a_hidden_import(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    for path, text in CYCLIC.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    graph = import_graph(root)
    assert graph["pkg.b"] == {"pkg.c"}  # the TYPE_CHECKING import is no edge
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert function_imports(root) == {("d.py", "f", "pkg")}
