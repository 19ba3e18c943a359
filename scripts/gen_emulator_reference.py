#!/usr/bin/env python3
"""Write the emulator's copy of the API facts it answers from, or check that it is current.

    python scripts/gen_emulator_reference.py          # rewrite testing/_reference.json
    python scripts/gen_emulator_reference.py --check  # exit 1 if it differs from reference/

The emulator ships inside the wheel, where ``reference/`` is not: it gets the JSON Schemas
of every request body (and the schemas they refer to), to check bodies as Losant does,
and the example document of every schema, to build complete answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
OUTPUT = ROOT / "losant_fluent" / "testing" / "_reference.json"


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def build(reference: Path) -> dict[str, Any]:
    """The body schemas (with what they refer to), every example by schema name, and the
    answers keyed by data (device ids, attribute names) rather than by documented fields."""
    endpoints = json.loads((reference / "endpoints.json").read_text(encoding="utf-8"))
    wanted: set[str] = set()
    for resource in endpoints["resources"].values():
        for action in resource["actions"].values():
            for param in action.get("params", []):
                if param.get("in") == "body" and param.get("schema"):
                    wanted.add(param["schema"])
    schemas: dict[str, Any] = {}
    todo = sorted(wanted)
    while todo:
        name = todo.pop()
        path = reference / "schemas" / f"{name}.json"
        if name in schemas or not path.exists():
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$schema", None)
        schemas[name] = schema
        todo.extend(sorted(_refs(schema) - set(schemas)))
    examples = json.loads((reference / "examples.json").read_text(encoding="utf-8"))
    maps = []
    for path in sorted((reference / "schemas").glob("*.json")):
        node = json.loads(path.read_text(encoding="utf-8"))
        if "patternProperties" in node and not node.get("properties"):
            maps.append(path.stem)
    return {"examples": examples, "maps": maps, "schemas": schemas}


def render(reference: Path) -> str:
    """The file's text: compact, keys sorted, so a refresh diffs cleanly."""
    return json.dumps(build(reference), sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    args = parser.parse_args(argv)
    text = render(args.reference)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            where = OUTPUT.relative_to(ROOT)
            print(f"{where} is stale: run python scripts/gen_emulator_reference.py")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
