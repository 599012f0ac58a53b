"""`disentangle.explore` has no import cycle, not even through imports inside functions.

Checked statically on the source (every `import` anywhere in a module counts),
so an import hidden inside a function cannot hide a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import disentangle.explore as pkg

FOLDER = Path(pkg.__file__).parent
PREFIX = "disentangle.explore."


def _graph() -> dict[str, set[str]]:
    """module -> explore modules it imports anywhere in its source (functions and TYPE_CHECKING too)."""
    graph: dict[str, set[str]] = {}
    for path in FOLDER.glob("*.py"):
        name = PREFIX + path.stem
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "disentangle.explore":
                    deps |= {PREFIX + a.name for a in node.names if (FOLDER / f"{a.name}.py").exists()}
                elif node.module.startswith(PREFIX):
                    deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith(PREFIX)}
        graph[name] = deps - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path + [node, dep]
            if dep not in state:
                found = visit(dep, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_no_import_cycle_in_explore():
    graph = _graph()
    assert PREFIX + "explorer" in graph and PREFIX + "actions" in graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_core_modules_do_not_import_presentation():
    graph = _graph()
    for core in ("refs", "session", "entry", "explorer", "cache", "memo", "projection", "neighbours", "search",
                 "names"):
        for dep in graph[PREFIX + core]:
            assert dep.rsplit(".", 1)[1] not in ("describe", "figures", "mapview", "export", "actions"), (core, dep)
