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
    # The error hierarchy depends on nothing of ours.
    assert graph["losant_fluent._exceptions"] == set()


# -- the public surface ----------------------------------------------------------------------

ROOT = PACKAGE.parent
_PRIVATE = __import__("re").compile(r"losant_fluent\._[a-z]|from \._[a-z]")


def test_docs_examples_and_readme_name_only_public_modules() -> None:
    # architecture.md is the maintainers' map of the private modules; every other page,
    # example and the README is for users and names public modules only.
    pages = [p for p in (ROOT / "docs").rglob("*.md") if p.name != "architecture.md"]
    files = [*pages, *(ROOT / "examples").rglob("*.py"), ROOT / "README.md"]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _PRIVATE.search(line)
    ]
    assert not found, "\n".join(found)


def test_messages_name_only_public_modules() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_generated" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings and _PRIVATE.search(node.value)
                    and not node.value.startswith("losant_fluent._")):  # module names
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]}")
    assert not found, "\n".join(found)


def test_the_types_users_meet_are_public() -> None:
    import losant_fluent
    import losant_fluent.transports as transports

    for name in ("EventStream", "ServerSentEvent", "PageWalk", "AsyncPaged", "AsyncPageWalk",
                 "AsyncEventStream", "walk", "AsyncAPI"):
        assert name in losant_fluent.__all__
        assert getattr(losant_fluent, name) is not None
    for name in transports.__all__:
        assert getattr(transports, name).__name__ == name
    # A public name is found where the docs say: ``losant_fluent.transports.WSGITransport``.
    from losant_fluent._transport import WSGITransport

    assert transports.WSGITransport is WSGITransport
