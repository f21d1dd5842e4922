"""The production packages import each other without cycles, and no import hides inside a function.

import-linter (`make layers`) checks the direction of the layers; this checks what it cannot: that
no group of modules imports each other in a circle, at any level, and that nobody dodges such a
circle with an import inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "coaching", "storage", "scheduling", "handlers", "wiring", "sandbox")

def _graph() -> grimp.ImportGraph:
    # An import under `if TYPE_CHECKING:` never runs, so it cannot take part in an import cycle.
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_production_modules_import_each_other_in_a_circle() -> None:
    graph = _graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lazy_project_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(func):
                    names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                             else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                    for name in names:
                        if name.split(".")[0] in PACKAGES:
                            found.add((_module_name(path), name))
    return found


# The command line loads each command's modules when that command runs (cron's `dispatch` every
# minute must not pay for Bolt, Rich or the sandbox); it is the top layer, so nothing it imports can
# import it back.
CLI_COMMANDS = {("wiring.cli", m) for m in ("coaching.tone", "handlers.passes", "wiring.boot", "wiring.runner",
                                             "wiring.demo", "core.config_schema")}
# Alembic loads only when a migration is due (storage.migrate imports nothing of storage).
DEFERRED = CLI_COMMANDS | {("storage.db", "storage.migrate")}


def test_no_function_imports_a_project_module() -> None:
    assert _lazy_project_imports() - DEFERRED == set()
