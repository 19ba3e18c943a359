"""Generate each shape of the schemas once: identical model classes become one class.

Losant's schemas paste the same object schema in many places (a dashboard's blocks in the
four dashboard documents, the query operators of every ``advanced*Query``, flow triggers
in the linked-resources documents...), and datamodel-code-generator writes a class for
each copy. Here the generated classes are compared by structure (their fields, bases and
settings, the classes they refer to compared the same way, docstrings aside), and:

* copies within one module become one class; the other names become aliases of it
  (``Name = Kept``) where the copies stood;
* a class found in several modules moves to a shared module (``_shared_<module>.py``, one
  per set of modules using it, named after the first of them), and every module keeps
  its own names as aliases of the shared class, so ``device.DeviceTag`` still works.

A schema's own class (``Device`` of ``device``) never moves, and a class in a cycle of
references (a recursive shape) is left as it is. The shared class takes the name and
docstring of the copy in the module with the shortest name (``device`` before
``devices_post``), so it reads like the schema it most belongs to.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Callable

SHARED_PREFIX = "_shared_"

Key = tuple[str, str]  # (module, class name)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class _Fingerprints:
    """Structural fingerprints of every class (None for classes in a reference cycle)."""

    def __init__(self, classes: dict[Key, ast.ClassDef], modules: set[str]) -> None:
        self.classes = classes
        self.modules = modules
        self.done: dict[Key, str | None] = {}

    def __call__(self, key: Key, stack: tuple[Key, ...] = ()) -> str | None:
        if key in self.done:
            return self.done[key]
        if key in stack:
            return None
        module, name = key
        node = self.classes[key]
        broken = False

        def ref(target: Key) -> ast.expr:
            nonlocal broken
            if target == key:
                return ast.Constant("@self")
            found = self(target, (*stack, key))
            if found is None:
                broken = True
            return ast.Constant(f"@{found}")

        rewrite = _References(module, self.classes, self.modules, lambda t: ref(t))
        parts = [ast.dump(rewrite.visit(copy.deepcopy(base))) for base in node.bases]
        parts += [
            ast.dump(rewrite.visit(copy.deepcopy(stmt)))
            for stmt in node.body
            if not _is_docstring(stmt)
        ]
        parts += [ast.dump(k) for k in node.keywords]
        result = None if broken else hashlib.sha1("\n".join(parts).encode()).hexdigest()
        if not stack or result is not None:  # a cycle seen from inside is not final yet
            self.done[key] = result
        return result


class _References(ast.NodeTransformer):
    """Replace each reference to a generated class (``Name`` or ``module.Name``)."""

    def __init__(
        self,
        module: str,
        classes: dict[Key, ast.ClassDef],
        modules: set[str],
        replace: Callable[[Key], ast.expr],
    ) -> None:
        self.module = module
        self.classes = classes
        self.modules = modules
        self.replace = replace

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if (self.module, node.id) in self.classes:
            return ast.copy_location(self.replace((self.module, node.id)), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        value = node.value
        if isinstance(value, ast.Name) and value.id in self.modules:
            if (value.id, node.attr) in self.classes:
                return ast.copy_location(self.replace((value.id, node.attr)), node)
        self.generic_visit(node)
        return node


def _name_ref(module: str, name: str, here: str) -> ast.expr:
    if module == here:
        return ast.Name(name, ast.Load())
    return ast.Attribute(ast.Name(module, ast.Load()), name, ast.Load())


def share_shapes(
    trees: dict[str, ast.Module], roots: set[Key], import_of: dict[str, ast.ImportFrom]
) -> dict[str, ast.Module]:
    """Merge identical classes of ``trees`` (module name -> tree, changed in place).

    ``roots`` are the schemas' own classes (never moved); ``import_of`` says where each name
    a class may use comes from (``Field`` -> ``from pydantic import Field``). Returns the
    shared modules to add, by module name; every module that uses one gets its import.
    """
    classes: dict[Key, ast.ClassDef] = {}
    order: dict[Key, int] = {}
    for module in sorted(trees):
        for stmt in trees[module].body:
            if isinstance(stmt, ast.ClassDef):
                order[(module, stmt.name)] = len(order)
                classes[(module, stmt.name)] = stmt
    fingerprint = _Fingerprints(classes, set(trees))
    groups: dict[str, list[Key]] = {}
    for key in classes:
        found = fingerprint(key)
        if found is not None and key not in roots:
            groups.setdefault(found, []).append(key)

    # Where each class ends up: its own place, or the kept copy (same module or shared).
    home: dict[Key, Key] = {key: key for key in classes}
    shared_groups: dict[frozenset[str], list[list[Key]]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda k: (len(k[0]), k[0], order[k]))
        users = frozenset(module for module, _ in members)
        if len(users) == 1:
            kept = min(members, key=lambda k: order[k])
            for key in members:
                home[key] = kept
        else:
            shared_groups.setdefault(users, []).append(members)
    shared_names: dict[frozenset[str], str] = {}
    taken: set[str] = set()
    for users in sorted(shared_groups, key=lambda u: (sorted(u, key=lambda m: (len(m), m)))):
        first = min(users, key=lambda m: (len(m), m))
        name, number = f"{SHARED_PREFIX}{first}", 2
        while name in taken:
            name, number = f"{SHARED_PREFIX}{first}_{number}", number + 1
        taken.add(name)
        shared_names[users] = name
        used_names: set[str] = set()
        for members in shared_groups[users]:
            chosen = members[0][1]
            suffix = 2
            while chosen in used_names:  # two shapes named alike: keep both, told apart
                chosen, suffix = f"{members[0][1]}V{suffix}", suffix + 1
            used_names.add(chosen)
            for key in members:
                home[key] = (name, chosen)

    # The shared modules: each kept copy, references pointing at where classes now live.
    shared: dict[str, ast.Module] = {}
    for users, group_list in shared_groups.items():
        name = shared_names[users]
        body: list[ast.stmt] = []
        needs: set[str] = set()
        for members in group_list:
            source = members[0]
            node = copy.deepcopy(classes[source])
            node.name = home[source][1]

            def located(target: Key, here: str = name, needs: set[str] = needs) -> ast.expr:
                module, cls = home[target]
                if module != here:
                    needs.add(module)
                return _name_ref(module, cls, here)

            refs = _References(source[0], classes, set(trees), located)
            node.bases = [refs.visit(base) for base in node.bases]
            node.body = [refs.visit(stmt) for stmt in node.body]
            body.append(node)
        shared[name] = ast.Module(body=_in_dependency_order(body), type_ignores=[])
        shared[name].body[:0] = _imports_for(shared[name], needs, import_of)

    # The modules: copies replaced by aliases where they stood.
    for module, tree in trees.items():
        body = []
        needs = set()
        for stmt in tree.body:
            key = (module, stmt.name) if isinstance(stmt, ast.ClassDef) else None
            if key is None or home[key] == key:
                body.append(stmt)
                continue
            target_module, target = home[key]
            if target_module != module:
                needs.add(target_module)
            alias = ast.Assign(
                targets=[ast.Name(stmt.name, ast.Store())],
                value=_name_ref(target_module, target, module),
                lineno=0,
            )
            body.append(alias)
        tree.body = body
        for needed in sorted(needs):
            tree.body.insert(1, ast.ImportFrom(None, [ast.alias(needed)], 1))
    return shared


def _in_dependency_order(classes: list[ast.stmt]) -> list[ast.stmt]:
    """Classes ordered so that each comes after the classes of its module it names."""
    by_name = {c.name: c for c in classes if isinstance(c, ast.ClassDef)}
    placed: list[ast.stmt] = []
    seen: set[str] = set()

    def place(node: ast.ClassDef, visiting: frozenset[str]) -> None:
        if node.name in seen or node.name in visiting:
            return
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in by_name and sub.id != node.name:
                place(by_name[sub.id], visiting | {node.name})
        seen.add(node.name)
        placed.append(node)

    for node in classes:
        assert isinstance(node, ast.ClassDef)
        place(node, frozenset())
    return placed


def _imports_for(
    tree: ast.Module, modules: set[str], import_of: dict[str, ast.ImportFrom]
) -> list[ast.stmt]:
    """The imports a shared module needs: names it uses, sibling modules it refers to."""
    used = {sub.id for sub in ast.walk(tree) if isinstance(sub, ast.Name)}
    merged: dict[tuple[str, int], set[str]] = {}
    for name in sorted(used):
        source = import_of.get(name)
        if source is not None:
            merged.setdefault((source.module or "", source.level), set()).add(name)
    result: list[ast.stmt] = [ast.ImportFrom("__future__", [ast.alias("annotations")], 0)]

    def rank(key: tuple[str, int]) -> tuple[int, str]:
        return (2 if key[1] else 1, key[0])

    for module, level in sorted(merged, key=rank):
        names = [ast.alias(n) for n in sorted(merged[(module, level)])]
        result.append(ast.ImportFrom(module or None, names, level))
    for module in sorted(modules):
        result.append(ast.ImportFrom(None, [ast.alias(module)], 1))
    return result
