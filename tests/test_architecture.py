"""The core modules' structure: no import cycles, each layer calling only the one below."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "losant_fluent"


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports at run time (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    package = path.parent.relative_to(PACKAGE.parent).as_posix().replace("/", ".")
    for node in ast.walk(tree):
        if id(node) in type_only or not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            if node.module and node.module.startswith("losant_fluent"):
                found.add(node.module)
            continue
        base = package.split(".")
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
        if node.module is None:
            found.update(f"{target}.{alias.name}" for alias in node.names)
        else:
            found.add(target)
    return found


# The request path: chain, encoding, pipeline, transport, errors, logins, pages, models.
CORE = {
    "_auth", "_catalog", "_client", "_exceptions", "_node", "_pagination", "_params",
    "_pipeline", "_resources", "_transport", "_values", "_wire",
    "models._base", "models._registry", "models._lenient",
    "_secrets", "_deadline", "_fork", "_seen",  # leaves the core uses (issue 20)
}
# Features above the core (tables, streams, files, async, display): they may use the
# whole core; result methods load them lazily, and they are not part of the check.


def _core() -> dict[str, set[str]]:
    modules = {f"losant_fluent.{name}": PACKAGE / (name.replace(".", "/") + ".py")
               for name in CORE}
    return {name: {m for m in _imports(path) if m in modules and m != name}
            for name, path in modules.items() if path.exists()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle_among_core_modules() -> None:
    graph = _core()
    assert "losant_fluent._pipeline" in graph and "losant_fluent._node" in graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_check_can_fail() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_each_layer_calls_only_the_one_below() -> None:
    graph = _core()
    # Nodes build calls and hand them to the pipeline; they never touch HTTP or the API.
    assert not graph["losant_fluent._node"] & {"losant_fluent._client",
                                               "losant_fluent._transport"}
    # The pipeline knows nothing of nodes or of the API that owns it.
    assert not graph["losant_fluent._pipeline"] & {"losant_fluent._node",
                                                   "losant_fluent._resources",
                                                   "losant_fluent._client"}
    # Logins renew through the pipeline, not through API.
    assert "losant_fluent._client" not in graph["losant_fluent._auth"]
    # The error hierarchy depends on nothing of ours but the secrets it scrubs.
    assert graph["losant_fluent._exceptions"] <= {"losant_fluent._secrets"}
    # The reliability leaves depend on nothing else of ours.
    assert graph["losant_fluent._secrets"] == set() and graph["losant_fluent._seen"] == set()
    assert graph["losant_fluent._deadline"] <= {"losant_fluent._fork"}
