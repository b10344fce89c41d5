"""The import rules of docs/architecture.md, read from the source: which part may import which, and no circles.

Every `import` counts, also one inside a function (a circle hidden by a late import is still a circle); only
imports under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "widget_server"

# part -> parts it must never import
FORBIDDEN = {
    "domain": {"web", "realtime", "services", "storage", "jobs", "mail", "crm", "assembly", "config"},
    "storage": {"web", "realtime", "services", "jobs", "mail", "crm", "assembly"},
    "realtime": {"web", "services", "storage", "jobs", "mail", "crm", "assembly"},
    "jobs": {"web", "services", "assembly"},
    "mail": {"web", "services", "jobs", "assembly"},
    "crm": {"web", "services", "assembly"},
    "services": {"web", "assembly"},
    "web": {"storage", "assembly"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = _module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        skip = _type_checking_lines(tree)
        found: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("widget_server"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("widget_server"):
                # `from widget_server.services import dialogs` imports the module `services.dialogs`
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    as_module = PACKAGE.parent / Path(*candidate.split("."))
                    is_module = as_module.with_suffix(".py").exists() or (as_module / "__init__.py").exists()
                    found.add(candidate if is_module else node.module)
        graph[name] = found - {name}
    return graph


GRAPH = _imports()


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_imports_only_what_it_may(part):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _part(module) == part
        for target in targets
        if _part(target) in FORBIDDEN[part]
    )
    assert wrong == []


def test_no_module_imports_itself_back_through_others():
    circles = []
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if target not in GRAPH:
                continue
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif state.get(target) is None:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    # A package's __init__ importing its own modules is how a package is put together, not a circle.
    circles = [c for c in circles if not all(m.startswith(c.split(" -> ")[0]) for m in c.split(" -> "))]
    assert circles == []


def test_every_frame_of_the_protocol_has_its_use_case():
    from widget_server.realtime.frames import OPERATOR_FRAMES, VISITOR_FRAMES
    from widget_server.web import operator_ws, visitor_ws

    assert set(visitor_ws._VISITOR_USE_CASES) == set(VISITOR_FRAMES.values())
    assert set(operator_ws._OPERATOR_USE_CASES) == set(OPERATOR_FRAMES.values())
