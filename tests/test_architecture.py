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


# The layers docs/architecture.md draws, lowest first. A module imports only modules of its
# own layer or of a layer below (lazy imports included; type-only imports are free), and no
# modules import each other in a cycle. Every module of the package is in exactly one layer.
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {
        "_exceptions", "_values", "_catalog", "_optional", "_progress", "limits", "_limiter",
        "_secrets", "_fork", "_deadline", "_seen", "models._types",
        "models._compat", "_hooks",
    }),
    ("models", {
        "models", "models._lenient", "models._lazy", "models._display", "models._time",
        "models._bodies", "models._base", "models._paged", "models._registry",
        "models._generated", "_pagination", "_data", "_sse", "_plan",
    }),
    ("wire", {"_wire", "_transport", "_async_transport", "transports"}),
    ("pipeline", {"_flows", "_pipeline", "_async_pipeline", "_splitting"}),
    ("results", {
        "_results", "_streams", "_async_streams", "_async_pagination", "_files",
        "models._files", "models._generated.file", "models._generated.file_upload_post_response",
        "models._generated.files", "_jobs", "models._jobs",
        "models._generated.job_enqueued_result", "models._generated.success_with_job_id",
        "models._generated.device_recipe_bulk_create_enqueued",
    }),
    ("nodes", {
        "_node", "_async_node", "_params", "_signatures", "_resources", "_async_resources",
        "_auth", "_client", "_async_client", "_ipython", "",
        "dask", "_dask", "_fetch", "_parquet",
    }),
    ("tools", {"__main__", "testing"}),
]


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name below ``losant_fluent`` ("" for itself)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _layer_of(name: str) -> int:
    """The index of the layer that holds ``name``: its own entry, else its package's."""
    probe = name
    while True:
        for index, (_, members) in enumerate(LAYERS):
            if probe in members:
                return index
        if not probe or "." not in probe:  # a module of the package itself: listed, or not
            raise AssertionError(f"losant_fluent.{name} is in no layer of LAYERS")
        probe = probe.rpartition(".")[0]


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (names below ``losant_fluent``)."""
    modules = _modules()

    def known(target: str) -> str | None:
        name = target.removeprefix("losant_fluent").lstrip(".")
        while name not in modules:  # ``from .models import Device``: the package
            if not name:
                return "" if target.startswith("losant_fluent") else None
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for name, path in modules.items():
        targets = {known(t) for t in _imports(path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


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


def test_every_module_is_in_a_layer() -> None:
    for name in _modules():
        _layer_of(name)


def test_each_module_imports_only_its_layer_and_those_below() -> None:
    graph = _graph()
    assert "_pipeline" in graph and "_node" in graph and "models._base" in graph
    upward = [
        f"losant_fluent.{name or '__init__'} ({LAYERS[_layer_of(name)][0]}) imports "
        f"losant_fluent.{target or '__init__'} ({LAYERS[_layer_of(target)][0]})"
        for name, targets in sorted(graph.items())
        for target in sorted(targets)
        if _layer_of(target) > _layer_of(name)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle_in_the_package() -> None:
    # The package's __init__ re-exports from below; every module imports it to reach its
    # submodules, so it is left out of the cycle check (it imports no module that needs it).
    graph = {name: targets - {""} for name, targets in _graph().items() if name}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_check_can_fail() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_layer_check_can_fail() -> None:
    # The pipeline importing a node would break the rule.
    assert _layer_of("_node") > _layer_of("_pipeline")
    assert _layer_of("models._generated.device") == _layer_of("models._base")


def test_the_architecture_page_draws_these_layers() -> None:
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for layer, members in LAYERS:
        assert f"**{layer}**" in page, f"docs/architecture.md does not draw the {layer} layer"
        for member in members:
            if member and not member.startswith("models._generated"):
                package = member in ("models", "testing")
                shown = member.replace(".", "/") + ("/" if package else ".py")
                assert f"`{shown}`" in page, f"docs/architecture.md does not place {shown}"


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
